"""The endpoint pool's review findings: a URL httpx cannot use is a config error and never
ends the health checks, a passing health check does not hide failing requests, and the
failover count is kept under the pool's lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from murmurnet import GenerationRequest, Message, RunConfig, ScriptedBackend
from murmurnet.cancellation import Cancellation
from murmurnet.config import load_config
from murmurnet.config.pool import PoolSettings
from murmurnet.distributed.breaker import CircuitBreaker, State
from murmurnet.distributed.endpoint import Endpoint
from murmurnet.distributed.health import HealthChecker, HttpProbe, check
from murmurnet.distributed.pool import EndpointPool
from murmurnet.errors import BackendUnavailableError, ConfigError
from murmurnet.models.base import TokenCallback
from murmurnet.types import Completion

BAD_PORT = "http://127.0.0.1:80a0/v1"


def state(breaker: CircuitBreaker) -> State:
    """The breaker's state read afresh (a plain attribute read would be narrowed by mypy)."""
    return breaker.state


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def endpoint(url: str, clock: Clock | None = None) -> Endpoint:
    return Endpoint(url, ScriptedBackend(name=url), threshold=2, cooldown=5.0, clock=clock)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (BAD_PORT, "Invalid port: '80a0'"),
        ("http:///v1", "names no host"),
        ("http://127.0.0.1:99999/v1", "outside 1-65535"),
    ],
)
def test_an_endpoint_url_httpx_cannot_use_is_a_config_error_naming_the_key(
    tmp_path: Path, url: str, message: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"models:\n  default:\n    type: pool\n    endpoints:\n      - url: {url!r}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as bad:
        load_config({}, path)
    line = bad.value.one_line()
    assert "'models.default.endpoints.0.url'" in line and str(path) in line
    assert url in line and message in line and "\n" not in line


def test_good_endpoint_urls_still_load() -> None:
    urls = ["http://127.0.0.1:8000/v1/", "https://example.org/v1", "http://[::1]:8080/v1"]
    config = RunConfig(models={"m": {"type": "pool", "endpoints": [{"url": u} for u in urls]}})
    assert [e.url for e in config.models["m"].endpoints] == [u.rstrip("/") for u in urls]


def test_a_probe_that_raises_fails_its_endpoint_and_frees_the_half_open_slot() -> None:
    clock = Clock()
    bad = endpoint(BAD_PORT, clock)
    probe = HttpProbe(timeout=1)
    try:
        check([bad], probe)  # httpx raises InvalidURL, which is no HTTPError
        assert bad.breaker.failures == 1 and "InvalidURL" in bad.last_error
        check([bad], probe)
        assert state(bad.breaker) is State.OPEN
        clock.now = 5.0
        check([bad], probe)  # the half-open probe raises: it reopens, slot freed
        assert state(bad.breaker) is State.OPEN
        clock.now = 10.0
        assert bad.breaker.allow()  # the next probe is let through
    finally:
        probe.close()


def test_a_probe_that_raises_does_not_end_the_health_checks() -> None:
    bad, good = endpoint(BAD_PORT), endpoint("http://good")
    probed: list[str] = []
    seen_twice = threading.Event()

    def probe(target: Endpoint) -> str | None:
        probed.append(target.url)
        if probed.count("http://good") >= 2:
            seen_twice.set()
        if target is bad:
            raise RuntimeError("probe bug")
        return None

    checker = HealthChecker([bad, good], probe, interval=0.01)
    try:
        assert seen_twice.wait(5), f"the checks stopped after {probed}"
    finally:
        checker.close()
    assert state(bad.breaker) is State.OPEN
    assert bad.describe() == f"{BAD_PORT} (open: health check raised RuntimeError: probe bug)"


def test_a_passing_health_check_does_not_clear_failed_requests() -> None:
    clock = Clock()
    sick = endpoint("http://sick", clock)  # /health says 200, completions fail

    def healthy(_target: Endpoint) -> str | None:
        return None

    sick.failed("no answer within 60 s")
    check([sick], healthy)
    assert sick.breaker.failures == 1 and state(sick.breaker) is State.CLOSED
    sick.failed("no answer within 60 s")
    assert state(sick.breaker) is State.OPEN  # two request failures, checks in between
    clock.now = 5.0
    check([sick], healthy)  # past its cool-down a passing check still brings it back
    assert state(sick.breaker) is State.CLOSED and sick.breaker.failures == 0
    sick.failed("no answer within 60 s")
    sick.breaker.success()  # a request that succeeds still clears the count
    sick.failed("no answer within 60 s")
    assert state(sick.breaker) is State.CLOSED


class Broken:
    """A server that refuses every call."""

    can_batch = True
    context_size = 4096

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        raise BackendUnavailableError("connection refused")

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def close(self) -> None:
        pass


def test_the_failover_count_is_kept_under_the_pools_lock() -> None:
    settings = PoolSettings(strategy="round_robin", health_interval=0)
    down = Endpoint("http://down", Broken())  # type: ignore[arg-type]
    up = Endpoint("http://up", ScriptedBackend(lambda _r: "up answers", name="up"))
    pool = EndpointPool([down, up], settings)
    ask = [GenerationRequest(messages=[Message(role="user", content="?")])]
    answers: list[str] = []
    worker = threading.Thread(target=lambda: answers.extend(c.text for c in pool.generate(ask)))
    with pool._lock:
        worker.start()
        time.sleep(0.2)
        assert worker.is_alive() and pool.failovers == 0  # waits for the lock to count
    worker.join(5)
    assert answers == ["up answers"] and pool.failovers == 1
    pool.close()
