"""Periodic health checks: a dead or sick server is noticed between rounds, not by a round.

Each check asks the server's root `/health` (llama-server, vLLM and MurmurNet answer it;
llama-server says 503 while its model loads) and, where there is none, `{url}/models`
(every OpenAI-compatible server, Ollama included). A failed check counts like a failed
request on the endpoint's breaker; an open breaker past its cool-down is probed by the
check itself, so an endpoint that came back rejoins before a real round is risked on it. A
passing check does not clear the failures of real requests: answering /health says little
about answering a completion.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import httpx

from murmurnet.distributed.endpoint import Endpoint

Probe = Callable[[Endpoint], str | None]
"""Checks one endpoint: None when healthy, else the reason in a few words."""


class HttpProbe:
    """GET /health at the server's root, falling back to /v1/models when it has none."""

    def __init__(self, timeout: float) -> None:
        self._client = httpx.Client(timeout=timeout)
        self._models_only: set[str] = set()

    def __call__(self, endpoint: Endpoint) -> str | None:
        headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        root = endpoint.url.removesuffix("/chat/completions").removesuffix("/v1")
        try:
            if endpoint.url not in self._models_only:
                answer = self._client.get(f"{root}/health", headers=headers)
                if answer.status_code not in (404, 405):
                    return None if answer.is_success else f"/health said HTTP {answer.status_code}"
                self._models_only.add(endpoint.url)
            base = endpoint.url.removesuffix("/chat/completions")
            answer = self._client.get(f"{base}/models", headers=headers)
        except httpx.TimeoutException:
            return "health check timed out"
        except httpx.HTTPError as exc:
            return _reason(exc)
        return None if answer.is_success else f"/models said HTTP {answer.status_code}"

    def close(self) -> None:
        self._client.close()


def _reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else "cannot connect"
    return " ".join(str(exc).split()) or type(exc).__name__


def check(endpoints: Sequence[Endpoint], probe: Probe) -> None:
    """One pass over every endpoint the breaker lets through (a closed one, or an open one
    due for its probe)."""
    for endpoint in endpoints:
        if not endpoint.breaker.allow():
            continue
        try:
            reason = probe(endpoint)
        except Exception as exc:
            # Whatever it was (httpx's InvalidURL is no HTTPError), it is a failed check: a
            # half-open probe slot is freed and the thread goes on checking the others.
            reason = f"health check raised {type(exc).__name__}: {' '.join(str(exc).split())}"
        if reason is None:
            endpoint.breaker.recovered()
        else:
            endpoint.failed(reason)


class HealthChecker:
    """Checks the endpoints every `interval` seconds on a daemon thread until closed."""

    def __init__(self, endpoints: Sequence[Endpoint], probe: Probe, interval: float) -> None:
        self._endpoints = list(endpoints)
        self._probe = probe
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="murmurnet-health", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            check(self._endpoints, self._probe)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
