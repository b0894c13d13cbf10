"""The endpoint pool's strategies, circuit breaker and health checks, on fakes: which
endpoint a round goes to, how a failing endpoint is taken out and probed back, and that a
passing or broken health check neither hides failing requests nor ends the checks."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from murmurnet import GenerationRequest, Message, ScriptedBackend
from murmurnet.distributed.balance import Balancer, Need, language_of
from murmurnet.distributed.breaker import CircuitBreaker, State
from murmurnet.distributed.endpoint import Endpoint
from murmurnet.distributed.health import HealthChecker, HttpProbe, check

BAD_PORT = "http://127.0.0.1:80a0/v1"
"""A URL httpx refuses to use (InvalidURL, which is no HTTPError)."""


def state(breaker: CircuitBreaker) -> State:
    """The breaker's state read afresh (a plain attribute read would be narrowed by mypy)."""
    return breaker.state


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def endpoint(
    url: str, languages: tuple[str, ...] = (), context: int = 4096, clock: Clock | None = None
) -> Endpoint:
    return Endpoint(
        url,
        ScriptedBackend(name=url),
        languages=languages,
        context_size=context,
        max_in_flight=10,
        threshold=2,
        cooldown=5.0,
        clock=clock,
    )


def ask(text: str, max_tokens: int = 50) -> GenerationRequest:
    return GenerationRequest(
        messages=[
            Message(role="system", content="You are terse."),
            Message(role="user", content=text),
        ],
        max_tokens=max_tokens,
    )


ENGLISH = Need("en", 100)


def firsts(balancer: Balancer, endpoints: list[Endpoint], need: Need, n: int) -> list[str]:
    return [balancer.rank(endpoints, need)[0].url for _ in range(n)]


def test_round_robin_takes_turns() -> None:
    pool = [endpoint("a"), endpoint("b"), endpoint("c")]
    assert firsts(Balancer("round_robin"), pool, ENGLISH, 6) == ["a", "b", "c", "a", "b", "c"]


def test_the_ranking_is_also_the_failover_order() -> None:
    pool = [endpoint("a"), endpoint("b"), endpoint("c")]
    ranked = Balancer("round_robin").rank(pool, ENGLISH)
    assert [e.url for e in ranked] == ["a", "b", "c"]


def test_least_load_picks_the_fewest_in_flight_and_shares_ties() -> None:
    a, b, c = endpoint("a"), endpoint("b"), endpoint("c")
    balancer = Balancer("least_load")
    with a.busy(3), b.busy(1):
        assert firsts(balancer, [a, b, c], ENGLISH, 3) == ["c", "c", "c"]
        with c.busy(2):
            assert balancer.rank([a, b, c], ENGLISH)[0].url == "b"
    # Idle and equal: the turn breaks the tie, so work spreads.
    assert set(firsts(balancer, [a, b, c], ENGLISH, 3)) == {"a", "b", "c"}


def test_an_endpoint_above_max_load_is_used_only_after_the_others() -> None:
    a, b = endpoint("a"), endpoint("b")
    balancer = Balancer("round_robin", max_load=0.5)
    with a.busy(5):  # 5 of 10: at the limit
        assert firsts(balancer, [a, b], ENGLISH, 4) == ["b"] * 4
        assert [e.url for e in balancer.rank([a, b], ENGLISH)] == ["b", "a"]


def test_capability_routes_by_language_and_context() -> None:
    ja = endpoint("ja", languages=("ja",), context=2048)
    en = endpoint("en", languages=("en",), context=2048)
    big = endpoint("big", context=32768)
    balancer = Balancer("capability")
    assert set(firsts(balancer, [ja, en, big], Need("ja", 500), 4)) == {"ja", "big"}
    assert set(firsts(balancer, [ja, en, big], Need("en", 500), 4)) == {"en", "big"}
    assert firsts(balancer, [ja, en, big], Need("ja", 9000), 3) == ["big"] * 3


def test_capability_falls_back_to_the_roomiest_when_nothing_fits() -> None:
    small = endpoint("small", context=1024)
    medium = endpoint("medium", context=2048)
    ranked = Balancer("capability").rank([small, medium], Need("en", 100_000))
    assert [e.url for e in ranked] == ["medium", "small"]


def test_hybrid_is_capability_then_least_load() -> None:
    ja1 = endpoint("ja1", languages=("ja",))
    ja2 = endpoint("ja2", languages=("ja",))
    en = endpoint("en", languages=("en",))
    balancer = Balancer("hybrid")
    with ja1.busy(4):
        # The idle English server does not take a Japanese round from a fitting one.
        assert firsts(balancer, [ja1, ja2, en], Need("ja", 100), 3) == ["ja2"] * 3
        assert [e.url for e in balancer.rank([ja1, ja2, en], Need("ja", 100))] == [
            "ja2",
            "ja1",
            "en",
        ]


def test_a_call_needs_its_language_and_its_longest_request() -> None:
    need = Need.of([ask("水の化学式は何ですか？", 100), ask("水の性質を一つ教えてください。", 300)])
    assert need.language == "ja"
    assert 300 < need.tokens < 400
    assert Need.of([ask("What is the chemical formula of water?")]).language == "en"
    assert language_of("日本の首都はどこ? (capital)") == "ja"
    assert language_of("Is Tokyo big? " * 20 + "東") == "en"


def test_the_breaker_opens_after_failures_in_a_row_and_probes_back_once() -> None:
    clock = Clock()
    changes: list[tuple[State, State]] = []
    breaker = CircuitBreaker(
        3, cooldown=10.0, clock=clock, on_change=lambda a, b: changes.append((a, b))
    )
    breaker.failure()
    breaker.failure()
    breaker.success()  # the count is of failures in a row
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    assert state(breaker) is State.OPEN and not breaker.allow()
    clock.now = 9.9
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.allow()  # the one half-open probe
    assert state(breaker) is State.HALF_OPEN
    assert not breaker.allow()  # nobody else while it probes
    breaker.failure()  # a failed probe reopens at once
    assert state(breaker) is State.OPEN and not breaker.allow()
    clock.now = 20.0
    assert breaker.allow()
    breaker.success()
    assert state(breaker) is State.CLOSED and breaker.allow() and breaker.allow()
    assert changes == [
        (State.CLOSED, State.OPEN),
        (State.OPEN, State.HALF_OPEN),
        (State.HALF_OPEN, State.OPEN),
        (State.OPEN, State.HALF_OPEN),
        (State.HALF_OPEN, State.CLOSED),
    ]


def test_a_probe_without_a_verdict_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, cooldown=1.0, clock=clock)
    breaker.failure()
    clock.now = 1.0
    assert breaker.allow() and not breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_health_checks_take_a_dead_endpoint_out_and_bring_it_back() -> None:
    clock = Clock()
    a, b = endpoint("a", clock=clock), endpoint("b", clock=clock)
    down = {"a"}
    probed: list[str] = []

    def probe(target: Endpoint) -> str | None:
        probed.append(target.url)
        return "connection refused" if target.url in down else None

    check([a, b], probe)
    assert state(a.breaker) is State.CLOSED  # one failure of two allowed
    check([a, b], probe)
    assert state(a.breaker) is State.OPEN and state(b.breaker) is State.CLOSED
    assert a.describe() == "a (open: connection refused)"
    probed.clear()
    check([a, b], probe)
    assert probed == ["b"]  # an open endpoint is left alone until its cool-down ends
    clock.now = 5.0
    check([a, b], probe)  # the check is the half-open probe, and fails
    assert state(a.breaker) is State.OPEN
    down.clear()
    clock.now = 10.0
    check([a, b], probe)
    assert state(a.breaker) is State.CLOSED


@pytest.mark.parametrize("strategy", ["round_robin", "least_load", "capability", "hybrid"])
def test_every_strategy_spreads_equal_idle_endpoints(strategy: str) -> None:
    pool = [endpoint("a"), endpoint("b")]
    counts = Counter(firsts(Balancer(strategy), pool, ENGLISH, 10))  # type: ignore[arg-type]
    assert counts == {"a": 5, "b": 5}


def test_a_probe_that_raises_fails_its_endpoint_and_frees_the_half_open_slot() -> None:
    clock = Clock()
    bad = endpoint(BAD_PORT, clock=clock)
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
    sick = endpoint("http://sick", clock=clock)  # /health says 200, completions fail

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
