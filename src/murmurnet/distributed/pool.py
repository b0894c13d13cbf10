"""A model served by several OpenAI-compatible servers (llama-server, vLLM, Ollama, other
MurmurNet servers), as one backend: `type: pool` with `endpoints: [...]`.

A call (one round of agents) goes whole to ONE endpoint, chosen by the balancer, so the
agents' shared prompt is cached on that server. If the call fails before any text of it
reached the caller, it is tried again on the next endpoint of the ranking; every endpoint
is tried at most once per call, and when none is left the call ends with a one-line
`EndpointsDownError` naming each endpoint and why it is out, never a hang (each endpoint's
client has its `timeout`; an endpoint whose breaker is open is skipped at once).

Streamed and not streamed differ after the first text. A call with `on_token` has handed
text to its caller as it came; a failure after that is raised, not retried, because a
second answer would follow the first one's beginning on the caller's screen. A call
without `on_token` has shown nothing yet, so a failure at any point is retried on the next
endpoint; one after its answer had begun is logged as a warning ("murmurnet.pool"), never
silently, and every move counts in `failovers`. "Text" means answer text: headers or an
empty first chunk that a server sends at once do not count.

Log-probabilities pass through like every other request field (`logprobs=True` reaches the
servers that offer them). Likelihood scoring (`score`) is offered when some endpoint can
score (OpenAI-compatible servers cannot: they offer token log-probabilities, not scores of
given texts) and goes to those endpoints only, so a caller that checks for it is never
given a pool that would refuse.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from murmurnet.cancellation import Cancellation
from murmurnet.config import ModelSpec
from murmurnet.config.pool import PoolSettings
from murmurnet.distributed.balance import Balancer, Need
from murmurnet.distributed.endpoint import Endpoint
from murmurnet.distributed.health import HealthChecker, HttpProbe, Probe
from murmurnet.errors import (
    BackendUnavailableError,
    CancelledError,
    ConfigError,
    EndpointsDownError,
)
from murmurnet.models.base import LikelihoodScorer, TokenCallback, rough_token_count
from murmurnet.models.openai_http import OpenAIHTTPBackend
from murmurnet.models.registry import LoadOptions
from murmurnet.types import Completion, ContinuationScore, GenerationRequest, Message

log = logging.getLogger("murmurnet.pool")
T = TypeVar("T")
_REQUEST_FAULTS = frozenset({400, 413, 422})
"""Statuses that blame the request (too long for this server, say), not the server: another
endpoint is tried, but the endpoint's breaker does not count them."""


class _Delivery:
    """One attempt's text: passed on to the caller when it streams, and remembered, so a
    failure can be told apart as before or after the answer began."""

    def __init__(self, on_token: TokenCallback | None) -> None:
        self._on_token = on_token
        self.began = False

    @property
    def shown(self) -> bool:
        """Whether the caller has seen any of this attempt's text."""
        return self.began and self._on_token is not None

    def __call__(self, index: int, piece: str) -> None:
        if piece:
            self.began = True
        if self._on_token is not None:
            self._on_token(index, piece)


class EndpointPool:
    """Several endpoints as one model; safe to call from several threads at once."""

    can_batch = True

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        settings: PoolSettings | None = None,
        *,
        name: str = "pool",
        probe: Probe | None = None,
    ) -> None:
        if not endpoints:
            raise ConfigError("a pool model needs at least one endpoint", hint="set `endpoints:`")
        self.settings = settings or PoolSettings()
        self.name = name
        self.endpoints = list(endpoints)
        self.balancer = Balancer(self.settings.strategy, self.settings.max_load)
        sizes = [e.context_size for e in self.endpoints]
        # What the pool can route: any endpoint's window when it routes by fit, else the
        # smallest, so that a prompt built for the pool fits wherever it lands.
        capable = self.settings.strategy in ("capability", "hybrid")
        self.context_size = max(sizes) if capable else min(sizes)
        self.failovers = 0
        """Calls that moved to another endpoint after a failure (for logs and tests)."""
        self._lock = threading.Lock()
        self._own_probe: HttpProbe | None = None
        self._checker: HealthChecker | None = None
        if self.settings.health_interval > 0:
            if probe is None:
                probe = self._own_probe = HttpProbe(self.settings.health_timeout)
            interval = self.settings.health_interval
            self._checker = HealthChecker(self.endpoints, probe, interval)

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        if not requests:
            return []

        def attempt(endpoint: Endpoint, delivery: _Delivery) -> list[Completion]:
            return endpoint.backend.generate(requests, delivery, cancel)

        return self._call(Need.of(requests), len(requests), attempt, on_token)

    def count_tokens(self, text: str) -> int:
        """The servers' tokenizers are out of reach, so this is an estimate."""
        return rough_token_count(text)

    def load(self) -> Mapping[str, float]:
        return {"active_sequences": float(sum(e.in_flight for e in self.endpoints))}

    def close(self) -> None:
        if self._checker is not None:
            self._checker.close()
        if self._own_probe is not None:
            self._own_probe.close()
        for endpoint in self.endpoints:
            endpoint.backend.close()

    def _call(
        self,
        need: Need,
        size: int,
        attempt: Callable[[Endpoint, _Delivery], T],
        on_token: TokenCallback | None = None,
        among: Sequence[Endpoint] | None = None,
    ) -> T:
        """Try the ranked endpoints (all, or those `among`) in turn until one answers."""
        candidates = self.endpoints if among is None else among
        refusal: BackendUnavailableError | None = None
        for endpoint in self.balancer.rank(candidates, need):
            if not endpoint.breaker.allow():
                continue
            delivery = _Delivery(on_token)
            try:
                with endpoint.busy(size):
                    result = attempt(endpoint, delivery)
            except CancelledError:
                endpoint.breaker.release()
                raise
            except BackendUnavailableError as exc:
                if _status(exc) in _REQUEST_FAULTS:
                    endpoint.breaker.release()
                    refusal = refusal or exc
                else:
                    endpoint.failed(_short(exc))
                if delivery.shown:
                    raise BackendUnavailableError(
                        f"endpoint {endpoint.url} of {self.name!r} failed after its answer "
                        f"began streaming: {_short(exc)}",
                        hint="not retried elsewhere, as the text already sent would repeat",
                    ) from exc
                with self._lock:  # calls from several threads fail over at once
                    self.failovers += 1
                if delivery.began:  # nothing reached the caller, but say so
                    log.warning(
                        "%s failed after its answer began (%s); the round starts again on "
                        "the next endpoint",
                        endpoint.url,
                        _short(exc),
                    )
                else:
                    log.info("%s failed (%s); trying the next endpoint", endpoint.url, _short(exc))
                continue
            except BaseException:
                endpoint.breaker.release()
                raise
            endpoint.breaker.success()
            return result
        if refusal is not None:  # a live server refused the request itself
            raise refusal
        raise EndpointsDownError(
            f"every endpoint of model {self.name!r} is down: "
            + ", ".join(e.describe() for e in candidates),
            hint="start a server, check `endpoints:`, or wait for the cool-down "
            f"({self.settings.cooldown:g} s) to probe them again",
        )


class ScoringEndpointPool(EndpointPool):
    """A pool with endpoints that can score continuations (see `LikelihoodScorer`); scoring
    goes to those only."""

    @property
    def is_chat(self) -> bool:
        """The endpoints of a pool serve one model; a base one among them says so."""
        return all(
            e.backend.is_chat for e in self.endpoints if isinstance(e.backend, LikelihoodScorer)
        )

    def score(
        self,
        messages: Sequence[Message],
        continuations: Sequence[str],
        cancel: Cancellation | None = None,
    ) -> list[ContinuationScore]:
        def attempt(endpoint: Endpoint, _delivery: _Delivery) -> list[ContinuationScore]:
            scorer = endpoint.backend
            assert isinstance(scorer, LikelihoodScorer)
            return scorer.score(messages, continuations, cancel)

        scorers = [e for e in self.endpoints if isinstance(e.backend, LikelihoodScorer)]
        return self._call(Need.scoring(messages, continuations), 1, attempt, among=scorers)


def pool_of(
    endpoints: Sequence[Endpoint],
    settings: PoolSettings | None = None,
    *,
    name: str = "pool",
    probe: Probe | None = None,
) -> EndpointPool:
    """The pool class its endpoints allow: with `score` when any of them can score."""
    scoring = any(isinstance(e.backend, LikelihoodScorer) for e in endpoints)
    kind = ScoringEndpointPool if scoring else EndpointPool
    return kind(endpoints, settings, name=name, probe=probe)


def _status(exc: BaseException) -> int | None:
    """The HTTP status behind a server's refusal, when there is one."""
    status = getattr(exc.__cause__, "status_code", None)
    return status if isinstance(status, int) else None


def _short(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, BackendUnavailableError) else str(exc)
    return " ".join(text.split())[:200]


def settings_for(spec: ModelSpec, options: LoadOptions) -> PoolSettings:
    """The run's `endpoint_pool` settings with what the model's own `endpoint_pool` sets."""
    run = options.pool or PoolSettings()
    own = spec.endpoint_pool
    if own is None:
        return run
    return run.model_copy(update=own.model_dump(include=own.model_fields_set))


def create(spec: ModelSpec, options: LoadOptions) -> EndpointPool:
    """Registry factory: one OpenAI-compatible client per endpoint, with no retries of its
    own (the pool retries on another endpoint instead of waiting on a dead one)."""
    if not spec.endpoints:
        raise ConfigError(
            "a pool model needs endpoints",
            hint="list them under `endpoints:`, each with a `url:` (ending in /v1)",
        )
    settings = settings_for(spec, options)
    endpoints = []
    for declared in spec.endpoints:
        key = declared.api_key or spec.api_key or os.environ.get("OPENAI_API_KEY") or None
        context = declared.context_size or spec.context_size
        client = OpenAIHTTPBackend(
            declared.url,
            model=declared.api_model or spec.api_model or "default",
            api_key=key,
            timeout=spec.timeout,
            retries=0,
            context_size=context,
            max_concurrency=max(1, min(declared.max_in_flight, options.max_sequences)),
        )
        endpoints.append(
            Endpoint(
                declared.url,
                client,
                api_key=key,
                languages=tuple(declared.languages),
                context_size=context,
                max_in_flight=declared.max_in_flight,
                threshold=settings.failure_threshold,
                cooldown=settings.cooldown,
            )
        )
    name = spec.api_model or spec.endpoints[0].api_model or "pool"
    return pool_of(endpoints, settings, name=name)
