"""`murmurnet eval` end to end on a scripted model: report files and resumability."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from murmurnet.cli import evaluate
from murmurnet.cli.main import main
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text, task_text
from murmurnet.murmur.strategies import STRATEGIES


def test_eval_command_writes_a_report_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "\n".join(
            json.dumps({"question": f"What is {i} + {i}?", "answer": str(2 * i), "kind": "number"})
            for i in range(1, 4)
        ),
        encoding="utf-8",
    )
    config = tmp_path / "fake.yaml"
    config.write_text("models:\n  fake:\n    type: scripted\n    responses: []\n")

    def run() -> int:
        return main(
            ["eval", str(rows), "--strategies", "single,murmur", "--out", str(tmp_path / "out"),
             "--config", str(config), "--internal-model", "fake"]
        )  # fmt: skip

    # An empty script fails at the first model call: nothing is recorded, exit code 2.
    assert run() == 2
    assert "ran out" in capsys.readouterr().err
    # per row: single's reply; the murmur's plain answer, solver and three programs
    replies = [f"Answer: {2 * i}" for i in range(1, 4) for _ in range(6)]
    config.write_text(
        "models:\n  fake:\n    type: scripted\n    responses: " + json.dumps(replies) + "\n"
    )
    assert run() == 0
    out = capsys.readouterr().out
    assert "single" in out and "murmur" in out
    summary = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert summary
    assert (tmp_path / "out" / "report.md").exists()
    assert list((tmp_path / "out").glob("*.png"))
    lines = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    murmurs = [json.loads(line) for line in lines if json.loads(line)["strategy"] == "murmur"]
    # every agent's answer is kept with the row, for benchmarks/ballots.py
    assert {c["role"] for c in murmurs[0]["contributions"]} >= {"plain", "solver"}
    assert run() == 0  # resumed: no model call is needed (the script would run out)
    assert len((tmp_path / "out" / "results.jsonl").read_text().splitlines()) == 6


def test_eval_rejects_unknown_strategy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"question": "q", "answer": "1", "kind": "number"}\n')
    assert main(["eval", str(rows), "--strategies", "magic"]) == 2
    assert "unknown strategy 'magic'" in capsys.readouterr().err


class ForgetfulEngine:
    """A prompt cache: the sequences still holding a decoded prompt."""

    def __init__(self) -> None:
        self.cached: list[int] = [0]

    def forget(self, seq: int) -> None:
        self.cached = [s for s in self.cached if s != seq]


class RecordingRuntime:
    """Stands in for the runtime: answers "Answer: 4" and records what each strategy was asked."""

    asked: ClassVar[list[tuple[str, str]]] = []
    overrides: ClassVar[list[dict[str, object]]] = []

    def __init__(self, config: object) -> None:
        self.engine = ForgetfulEngine()
        self.pool = SimpleNamespace(loaded=[SimpleNamespace(engine=self.engine)])

    def __enter__(self) -> RecordingRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(self, question: str, *, strategy: str, **overrides: object) -> SimpleNamespace:
        assert not self.engine.cached, "a question must start cold"
        self.engine.cached = [0, 1]  # what the question leaves decoded
        RecordingRuntime.asked.append((strategy, question))
        RecordingRuntime.overrides.append(overrides)
        return SimpleNamespace(
            text="Answer: 4", prompt_tokens=1, completion_tokens=1, total_seconds=0.1, entries=[]
        )


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(evaluate, "Runtime", RecordingRuntime)
    monkeypatch.setattr(RecordingRuntime, "asked", [])
    monkeypatch.setattr(RecordingRuntime, "overrides", [])
    # A strategy registered later (as "plain" will be) is accepted without touching the CLI.
    monkeypatch.setitem(STRATEGIES, "plain", STRATEGIES["single"])
    return RecordingRuntime.asked


def test_single_gets_the_task_text_and_the_others_the_plain_question(
    tmp_path: Path, recording: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"question": "What is 2 + 2?", "answer": "4", "kind": "number"}))
    out = tmp_path / "out"
    assert main(["eval", str(rows), "--out", str(out)]) == 0  # default: plain,single,murmur
    row = load_rows(rows)[0]
    assert recording == [
        ("plain", plain_text(row)),
        ("single", task_text(row)),
        ("murmur", plain_text(row)),
    ]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Difference against `plain`" in report
    assert "`single` got the harness's task text" in report


def test_changed_settings_redo_every_pair_and_keep_the_old_records(
    tmp_path: Path, recording: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"question": "What is 2 + 2?", "answer": "4", "kind": "number"}))
    out = tmp_path / "out"

    def run(*flags: str) -> int:
        return main(["eval", str(rows), "--strategies", "plain,murmur", "--out", str(out), *flags])

    assert run() == 0 and len(recording) == 2
    assert run("--seed", "7") == 0 and len(recording) == 4  # new settings: asked again
    assert run("--seed", "7") == 0 and len(recording) == 4  # same settings: resumed
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    assert len({json.loads(line)["fingerprint"] for line in lines}) == 4
    assert "2 stored records were not reused" in (out / "report.md").read_text(encoding="utf-8")


def test_unknown_strategy_lists_the_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"question": "q", "answer": "1", "kind": "number"}\n')
    assert main(["eval", str(rows), "--strategies", "single,nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown strategy 'nope'" in err
    assert all(name in err for name in STRATEGIES)


def test_variants_run_their_base_with_their_overrides(
    tmp_path: Path, recording: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"question": "What is 2 + 2?", "answer": "4", "kind": "number"}))
    out = tmp_path / "out"
    spec = "plain,self-consistency[samples=3],self-consistency[ samples = 6 ],single[agents=3]"
    assert main(["eval", str(rows), "--strategies", spec, "--out", str(out)]) == 0
    row = load_rows(rows)[0]
    assert recording == [
        ("plain", plain_text(row)),
        ("self-consistency", plain_text(row)),
        ("self-consistency", plain_text(row)),
        ("single", task_text(row)),  # the question rule follows the base strategy
    ]
    assert RecordingRuntime.overrides == [{}, {"samples": 3}, {"samples": 6}, {"agents": 3}]
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    labels = ["plain", "self-consistency[samples=3]", "self-consistency[samples=6]"]
    assert [line["strategy"] for line in lines] == [*labels, "single[agents=3]"]
    assert len({line["fingerprint"] for line in lines}) == 4
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| self-consistency[samples=6] | 1 | 1 |" in report
    assert "![cost](cost.png)" in report and (out / "cost.png").is_file()
    assert main(["eval", str(rows), "--strategies", spec, "--out", str(out)]) == 0
    assert len(recording) == 4  # resumed: each variant found its own records


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("self-consistency[samples=99]", "bad value for 'samples'"),
        ("magic[samples=3]", "unknown strategy 'magic'"),
        ("murmur[wizards=3]", "unknown setting 'wizards'"),
        ("murmur[agents=3", "is never closed"),
    ],
)
def test_a_bad_variant_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"question": "q", "answer": "1", "kind": "number"}\n')
    assert main(["eval", str(rows), "--strategies", spec, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
