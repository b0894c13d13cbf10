"""A circuit breaker per endpoint: a failing server is taken out, then probed back.

Without it every round would first try a dead server and wait for it to fail. Closed, the
endpoint takes requests and failures in a row are counted; at `threshold` it opens and gets
nothing for `cooldown` seconds; then it is half-open: exactly one caller (a health check or
a real request) may try it, and that one attempt closes it again or reopens it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Thread-safe; `clock` is injectable so tests need not sleep through a cool-down."""

    def __init__(
        self,
        threshold: int = 3,
        cooldown: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[State, State], None] | None = None,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> State:
        return self._state

    @property
    def failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """Whether a caller may use the endpoint now. Past the cool-down the first caller
        becomes the half-open probe; every other caller is refused until it reports."""
        with self._lock:
            if self._state is State.CLOSED:
                return True
            if self._state is State.OPEN:
                if self._clock() - self._opened_at < self.cooldown:
                    return False
                self._move(State.HALF_OPEN)
            if self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._probing = False
            self._move(State.CLOSED)

    def recovered(self) -> None:
        """A passing health check: it brings an open or half-open endpoint back, but leaves
        a closed one's count alone. A server whose /health answers while its completions
        fail or hang must still be taken out by those failures, even when rounds are rarer
        than checks."""
        with self._lock:
            if self._state is not State.CLOSED:
                self._failures = 0
                self._probing = False
                self._move(State.CLOSED)

    def failure(self) -> None:
        """One more failure in a row; a failed probe reopens at once."""
        with self._lock:
            self._failures += 1
            self._probing = False
            if self._state is State.HALF_OPEN or self._failures >= self.threshold:
                self._opened_at = self._clock()
                self._move(State.OPEN)

    def release(self) -> None:
        """An attempt ended with no verdict on the endpoint (the caller cancelled, or the
        request itself was at fault): a half-open probe slot is freed for the next caller."""
        with self._lock:
            self._probing = False

    def _move(self, state: State) -> None:
        before, self._state = self._state, state
        if before is not state and self._on_change is not None:
            self._on_change(before, state)
