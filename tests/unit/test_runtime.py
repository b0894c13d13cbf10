"""The shared runtime: concurrent runs, cancellation, events, the blackboard factory."""

from __future__ import annotations

import threading
import time

import pytest

from murmurnet import GenerationRequest, RunConfig, Runtime, ScriptedBackend
from murmurnet.blackboard import InMemoryBlackboard, WriteListener
from murmurnet.errors import CancelledError
from murmurnet.events import RunEvent


def by_tag(request: GenerationRequest) -> str:
    """A reply that depends only on who asks and what the question is."""
    question = request.messages[0].content.splitlines()[-1]
    return f"{request.tag} answers {question} with several words to stream slowly"


def slow_runtime(**config: object) -> tuple[Runtime, ScriptedBackend]:
    fake = ScriptedBackend(by_tag, word_delay=0.005)
    return Runtime(RunConfig(agents=3, **config), backends={"default": fake}), fake  # type: ignore[arg-type]


@pytest.mark.usefixtures("open_discussion")
def test_concurrent_runs_one_cancelled_mid_round_the_others_unchanged() -> None:
    alone, _ = slow_runtime()
    with alone:
        expected = {q: alone.run(q).text for q in ("Question A?", "Question C?")}
    runtime, _ = slow_runtime()
    events: list[RunEvent] = []
    runtime.subscribe(events.append)
    with runtime:
        first = runtime.start("Question A?")
        doomed = runtime.start("Question B?")
        last = runtime.start("Question C?")
        deadline = time.monotonic() + 5
        while not any(e.type == "token" and e.run_id == doomed.id for e in events):
            assert time.monotonic() < deadline, "no token of the doomed run"
            time.sleep(0.005)
        doomed.cancel()
        with pytest.raises(CancelledError):
            doomed.result(timeout=5)
        assert first.result(timeout=10).text == expected["Question A?"]
        assert last.result(timeout=10).text == expected["Question C?"]
        runtime.bus.flush()
    cancelled = [e for e in events if e.run_id == doomed.id and e.type == "run_cancelled"]
    assert len(cancelled) == 1
    assert not any(e.run_id == doomed.id and e.type == "run_finished" for e in events)
    stages = [e.stage for e in events if e.run_id == doomed.id and e.type == "stage_started"]
    assert stages == ["round 1"]  # the pipeline stopped instead of going on to the summary


def test_events_follow_the_run_with_agent_and_role_on_every_token() -> None:
    runtime = Runtime(
        RunConfig(agents=2, consensus="vote"), backends={"default": ScriptedBackend(by_tag)}
    )
    events: list[RunEvent] = []
    runtime.subscribe(events.append)
    with runtime:
        answer = runtime.run("Why is the sky blue?")
        runtime.bus.flush()
    kinds = [e.type for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert {e.run_id for e in events} == {answer.run_id}
    round_tokens = [e for e in events if e.type == "token" and e.stage == "round 1"]
    assert {(e.agent, e.role) for e in round_tokens} == {
        (1, answer.contributions()[0].role),
        (2, answer.contributions()[1].role),
    }
    assert any(e.type == "token" and e.stage == "summary 1" for e in events)
    assert "agreement" in kinds
    calls = [e for e in events if e.type == "model_call"]
    assert [c.stage for c in calls] == ["round 1", "round 1", "summary 1", "output"]
    assert all(c.queue_seconds >= 0 and c.model == "scripted" for c in calls)
    written = [e.entry for e in events if e.type == "entry_written"]
    assert written == answer.entries


def test_a_slow_or_failing_subscriber_never_stalls_a_run() -> None:
    release = threading.Event()
    runtime = Runtime(RunConfig(agents=2), backends={"default": ScriptedBackend(by_tag)})

    def stuck(event: RunEvent) -> None:
        release.wait(10)

    def broken(event: RunEvent) -> None:
        raise RuntimeError("subscriber bug")

    runtime.subscribe(stuck)
    seen: list[RunEvent] = []
    runtime.subscribe(broken)
    runtime.subscribe(seen.append)
    with runtime:
        started = time.monotonic()
        answer = runtime.run("Why is the sky blue?")
        assert time.monotonic() - started < 5  # the stuck subscriber held nothing up
        release.set()
        runtime.bus.flush()
    assert seen[-1].type == "run_finished" and seen[-1].run_id == answer.run_id


def test_a_failing_token_callback_reaches_the_caller() -> None:
    runtime = Runtime(RunConfig(agents=1), backends={"default": ScriptedBackend(by_tag)})

    def closed_pipe(piece: str) -> None:
        raise BrokenPipeError("stdout closed")

    events: list[RunEvent] = []
    runtime.subscribe(events.append)
    with runtime:
        with pytest.raises(BrokenPipeError):
            runtime.run("Why is the sky blue?", on_token=closed_pipe)
        runtime.bus.flush()
    assert events[-1].type == "run_failed" and events[-1].error_type == "BrokenPipeError"


def test_the_runtime_takes_a_blackboard_factory() -> None:
    made: list[tuple[str, InMemoryBlackboard]] = []

    def factory(run_id: str, listeners: list[WriteListener]) -> InMemoryBlackboard:
        board = InMemoryBlackboard(listeners)
        made.append((run_id, board))
        return board

    runtime = Runtime(
        RunConfig(agents=2), backends={"default": ScriptedBackend(by_tag)}, blackboard=factory
    )
    with runtime:
        answer = runtime.run("Why is the sky blue?")
    assert [run_id for run_id, _ in made] == [answer.run_id]
    assert made[0][1].entries() == answer.entries


def test_sessions_on_one_runtime_keep_their_own_conversations() -> None:
    fake = ScriptedBackend(by_tag)
    with Runtime(RunConfig(agents=1), backends={"default": fake}) as runtime:
        aiko, ben = runtime.session(), runtime.session()
        aiko.ask("My name is Aiko.")
        ben.ask("My name is Ben.")
        aiko.ask("What is my name?")
    last_prompt = fake.batches[-1][0].messages[0].content
    assert "My name is Aiko." in last_prompt and "Ben" not in last_prompt
    assert len(aiko.conversation.turns) == 2 and len(ben.conversation.turns) == 1


def test_overrides_change_one_run_only() -> None:
    fake = ScriptedBackend(by_tag)
    with Runtime(RunConfig(agents=2), backends={"default": fake}) as runtime:
        single = runtime.run("Why is the sky blue?", strategy="single")
        murmur = runtime.run("Why is the sky blue?")
    assert (single.strategy, murmur.strategy) == ("single", "murmur")
    assert runtime.config.strategy == "murmur"
