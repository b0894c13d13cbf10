"""One server of a pool as the balancer sees it: what it declares, how busy it is, and
whether its breaker lets it take work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from murmurnet.distributed.breaker import CircuitBreaker, State
from murmurnet.models.base import Backend

log = logging.getLogger("murmurnet.pool")


class Endpoint:
    """A backend (normally one OpenAI-compatible server) with its load and health.

    `languages` empty means any language; `context_size` is what it accepts in tokens,
    prompt and reply together."""

    def __init__(
        self,
        url: str,
        backend: Backend,
        *,
        api_key: str | None = None,
        languages: tuple[str, ...] = (),
        context_size: int = 4096,
        max_in_flight: int = 16,
        threshold: int = 3,
        cooldown: float = 15.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.url = url
        self.backend = backend
        self.api_key = api_key
        self.languages = languages
        self.context_size = context_size
        self.max_in_flight = max_in_flight
        extra = {"clock": clock} if clock is not None else {}
        self.breaker = CircuitBreaker(threshold, cooldown, on_change=self._changed, **extra)
        self.last_error = ""
        self._in_flight = 0
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def load(self) -> float:
        """In-flight requests as a share of what it takes at once."""
        return self._in_flight / self.max_in_flight

    def speaks(self, language: str) -> bool:
        return not self.languages or language in self.languages

    @contextmanager
    def busy(self, requests: int) -> Iterator[None]:
        with self._lock:
            self._in_flight += requests
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= requests

    def failed(self, reason: str) -> None:
        self.last_error = reason
        self.breaker.failure()

    def _changed(self, before: State, after: State) -> None:
        if after is State.OPEN:
            log.warning("endpoint %s taken out of the pool: %s", self.url, self.last_error)
        elif after is State.CLOSED:
            log.warning("endpoint %s is back in the pool", self.url)

    def describe(self) -> str:
        """Its state for an error message: "URL (open: connection refused)"."""
        state = self.breaker.state.value.replace("_", "-")
        reason = f": {self.last_error}" if self.last_error else ""
        return f"{self.url} ({state}{reason})"
