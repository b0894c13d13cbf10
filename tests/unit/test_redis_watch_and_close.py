"""The Redis blackboard's loose ends that need no redis-server: the runtime closes the store
it was given, and `watch` refuses a run it cannot find instead of waiting for it forever
(tests/system/test_redis_blackboard.py runs both against a real server)."""

from __future__ import annotations

import pytest

from murmurnet import RunConfig, Runtime, ScriptedBackend
from murmurnet.blackboard import InMemoryBlackboard, WriteListener
from murmurnet.cli.main import main
from murmurnet.distributed import redis_watch
from murmurnet.distributed.redis_board import RedisBlackboards


class ClosableStore:
    """A factory holding something to release, as `RedisBlackboards` holds connections."""

    def __init__(self) -> None:
        self.closed = 0

    def __call__(self, run_id: str, listeners: list[WriteListener]) -> InMemoryBlackboard:
        return InMemoryBlackboard(listeners)

    def close(self) -> None:
        self.closed += 1


def test_closing_the_runtime_closes_its_blackboard_store() -> None:
    store = ClosableStore()
    fake = ScriptedBackend(lambda request: "four")
    with Runtime(RunConfig(agents=1), backends={"default": fake}, blackboard=store) as runtime:
        runtime.run("What is 2 + 2?")
        assert store.closed == 0
    assert store.closed == 1


def test_the_redis_store_closes_its_client(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []
    store = RedisBlackboards.__new__(RedisBlackboards)  # no server: only close() is used
    store.client = type("Client", (), {"close": lambda self: closed.append(True)})()
    fake = ScriptedBackend(lambda request: "four")
    Runtime(RunConfig(agents=1), backends={"default": fake}, blackboard=store).close()
    assert closed == [True]


def test_watch_of_an_unknown_run_names_it_and_the_redis(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[tuple[str, float]] = []

    def nowhere(settings: object, run_id: str, wait: float = 0.0) -> bool:
        asked.append((run_id, wait))
        return False

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("followed a run that does not exist")

    monkeypatch.setattr(redis_watch, "run_exists", nowhere)
    monkeypatch.setattr(redis_watch, "follow", never)
    url = "redis://:s3cret@127.0.0.1:6390/0"
    assert main(["watch", "run-typo", "--redis-url", url, "--namespace", "team"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "no run run-typo" in line and "redis://:***@127.0.0.1:6390/0" in line
    assert "s3cret" not in line and "team" in line and "--wait" in line
    assert main(["watch", "run-typo", "--redis-url", url, "--wait", "2.5"]) == 2
    assert asked == [("run-typo", 0.0), ("run-typo", 2.5)]


def test_watch_help_says_how_to_stop_watching_a_run_that_never_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["watch", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "never writes one: pass --idle" in text
