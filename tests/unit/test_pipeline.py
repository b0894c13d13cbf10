from __future__ import annotations

import json
from pathlib import Path

import pytest

from murmurnet import GenerationRequest, MurmurNet, RunConfig, ScriptedBackend
from murmurnet.errors import InputError, ScriptExhaustedError
from murmurnet.types import EntryKind

pytestmark = pytest.mark.usefixtures("open_discussion")


def echo_role(request: GenerationRequest) -> str:
    """Reply with the first line of the task so tests can see which role spoke."""
    return f"[{request.tag}] " + request.messages[-1].content.splitlines()[0]


def run(config: RunConfig, question: str = "What is two plus two?", **kw: object):  # type: ignore[no-untyped-def]
    fake = ScriptedBackend(echo_role)
    with MurmurNet(config, backends={"default": fake}) as net:
        return net.ask(question, **kw), fake  # type: ignore[arg-type]


def test_rounds_agents_and_summaries() -> None:
    answer, fake = run(RunConfig(agents=3, iterations=2))
    contributions = answer.contributions()
    assert len(contributions) == 6
    for round_number in (1, 2):
        roles = {c.role for c in contributions if c.round == round_number}
        assert len(roles) == 3
    assert [s.round for s in answer.summaries()] == [1, 2]
    assert answer.entries[-1].kind is EntryKind.FINAL
    assert answer.text.startswith("[output]")
    # one batch per round, then one summary call per round, then the output call
    assert [len(batch) for batch in fake.batches] == [3, 1, 3, 1, 1]


def test_no_parallel_runs_agents_one_by_one() -> None:
    _, fake = run(RunConfig(agents=3, parallel=False))
    assert [len(batch) for batch in fake.batches] == [1, 1, 1, 1, 1]


def test_no_summary_skips_the_summary_engine() -> None:
    answer, fake = run(RunConfig(agents=2, summary=False))
    assert answer.summaries() == []
    assert [len(batch) for batch in fake.batches] == [2, 1]


def test_round_two_reads_round_one_and_its_summary() -> None:
    _, fake = run(RunConfig(agents=3, iterations=2))
    first, second, _ = fake.batches[2]
    notes, task = first.messages[0].content, first.messages[-1].content
    assert "[summary 1]" in notes
    assert "[round 1" not in notes  # no peer answer under its agent's name
    assert "[round 1/agent 1]" not in task  # not its own answer: the two others', lettered
    assert "A: [round 1/agent" in task and "B: [round 1/agent" in task
    assert "disagree" in task
    assert "[round 1/agent 2]" not in second.messages[-1].content
    round_one = fake.batches[0][0].messages[0].content
    assert "[round" not in round_one  # agents answer independently first


def test_each_agent_sees_its_peers_in_its_own_shuffled_order() -> None:
    orders = set()
    for seed in range(6):
        _, fake = run(RunConfig(agents=4, iterations=2, seed=seed))
        task = fake.batches[2][0].messages[-1].content
        orders.add(tuple(task.index(f"[round 1/agent {j}]") for j in (2, 3, 4)))
    assert len(orders) > 1


def test_shared_text_first_role_last() -> None:
    _, fake = run(RunConfig(agents=2))
    first, second = fake.batches[0]
    assert first.messages[0] == second.messages[0]
    assert first.messages[-1] != second.messages[-1]


def test_role_persona_and_instruction_change_the_prompt(tmp_path: Path) -> None:
    roles = tmp_path / "roles.yaml"
    roles.write_text(
        "en:\n  researcher:\n    title: Auditor\n    persona: You audit numbers.\n"
        "    instruction: Recompute everything twice.\n",
        encoding="utf-8",
    )
    _, default = run(RunConfig(agents=1))
    _, custom = run(RunConfig(agents=1, role_files=[roles]))
    default_task = default.batches[0][0].messages[-1].content
    custom_task = custom.batches[0][0].messages[-1].content
    assert "careful researcher" in default_task and "audit" not in default_task
    assert "Recompute everything twice." in custom_task and "You audit numbers." in custom_task
    assert "careful researcher" not in custom_task


def test_role_temperature_and_seeds() -> None:
    config = RunConfig(
        agents=2,
        seed=7,
        roles={"expert": {"title": "C", "persona": "p", "instruction": "i", "temperature": 0.2}},
    )
    _, fake = run(config)
    researcher, expert = fake.batches[0]
    assert (researcher.temperature, expert.temperature) == (0.7, 0.2)
    assert researcher.seed != expert.seed


def test_japanese_question_uses_japanese_prompts() -> None:
    answer, fake = run(RunConfig(agents=2), "日本の首都について教えてください。")
    assert answer.language == "ja"
    assert "質問" in fake.batches[0][0].messages[0].content
    assert "日本語" in fake.batches[-1][0].messages[-1].content
    (output,) = fake.batches[-1]
    assert output.tag == "output" and output.japanese_only  # never Korean, never simplified Chinese
    assert not any(r.japanese_only for batch in fake.batches[:-1] for r in batch)


def test_language_override_changes_the_output_language() -> None:
    answer, fake = run(RunConfig(agents=1, language="en"), "日本の首都について教えてください。")
    assert answer.language == "en"
    assert "英語" in fake.batches[-1][0].messages[-1].content
    assert not fake.batches[-1][0].japanese_only


def test_answer_is_streamed() -> None:
    pieces: list[str] = []
    answer, _ = run(RunConfig(agents=1), on_token=pieces.append)
    assert "".join(pieces) == answer.text


def test_history_reaches_the_next_turn() -> None:
    fake = ScriptedBackend(echo_role)
    with MurmurNet(RunConfig(agents=1), backends={"default": fake}) as net:
        net.ask("My name is Aiko.")
        net.ask("What is my name?")
    second_turn = fake.batches[3][0].messages[0].content
    assert "My name is Aiko." in second_turn


def test_log_writes_every_blackboard_write_and_model_call(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    answer, _ = run(RunConfig(agents=2, log=log))
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    writes = [e for e in events if e["type"] == "entry_written"]
    calls = [e for e in events if e["type"] == "model_call"]
    assert len(writes) == len(answer.entries)
    assert {e["run_id"] for e in events} == {answer.run_id}
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_finished"
    assert [c["stage"] for c in calls] == ["round 1", "round 1", "summary 1", "output"]
    assert all("seconds" in c and "prompt_tokens" in c for c in calls)


def test_too_long_question_is_refused() -> None:
    fake = ScriptedBackend(["unused"], context_size=512)
    with (
        MurmurNet(RunConfig(), backends={"default": fake}) as net,
        pytest.raises(InputError, match="too long"),
    ):
        net.ask("word " * 2000)
    assert fake.requests == []


def test_scripted_backend_fails_loudly_when_it_runs_out() -> None:
    fake = ScriptedBackend(["a"])
    with (
        MurmurNet(RunConfig(agents=2), backends={"default": fake}) as net,
        pytest.raises(ScriptExhaustedError, match="ran out"),
    ):
        net.ask("What is two plus two?")


def test_empty_output_falls_back_to_the_summary() -> None:
    fake = ScriptedBackend(["four", "4", "They agree: four.", "  "])
    with MurmurNet(RunConfig(agents=2), backends={"default": fake}) as net:
        assert net.ask("What is two plus two?").text == "They agree: four."


def test_answer_json_shape() -> None:
    from murmurnet.cli.ask import answer_json

    answer, _ = run(RunConfig(agents=2))
    data = answer_json(answer)
    assert {"answer", "language", "entries", "timings", "stage_seconds"} <= set(data)
    assert data["completion_tokens"] > 0


def test_one_instance_per_distinct_model() -> None:
    from murmurnet import register_backend

    built: list[str] = []

    def factory(spec, options):  # type: ignore[no-untyped-def]
        built.append(spec.api_model)
        return ScriptedBackend(echo_role, name=spec.api_model)

    register_backend("counting", factory)
    config = RunConfig(
        agents=2,
        models={
            "a": {"type": "counting", "api_model": "x"},
            "b": {"type": "counting", "api_model": "x"},
            "c": {"type": "counting", "api_model": "y"},
        },
        internal_model="a",
        summary_model="b",
        output_model="c",
    )
    with MurmurNet(config) as net:
        net.ask("What is two plus two?")
        net.ask("And three plus three?")
    assert built == ["x", "y"]


def test_unwritable_log_is_a_config_error(tmp_path: Path) -> None:
    from murmurnet.errors import ConfigError

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write log file"):
        MurmurNet(RunConfig(log=blocker / "run.jsonl"))


CALCULATION = "Tom has 6 bags of 7 apples. How many apples does he have?"


def ask_team(replies: dict[str, str], config: RunConfig):  # type: ignore[no-untyped-def]
    """Ask CALCULATION of agents that answer from `replies` by tag; other calls say 'done'."""
    fake = ScriptedBackend(lambda request: replies.get(request.tag or "", "done"))
    with MurmurNet(config, backends={"default": fake}) as net:
        return net.ask(CALCULATION), fake


# The calculation flow (plain answer, roles, programs, vote) is in test_short_answer.py.
