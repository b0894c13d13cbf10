"""`murmurnet eval` end to end on a scripted model: report files and resumability."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from murmurnet.cli.main import main


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
    replies = [f"Answer: {2 * i}" for i in range(1, 4) for _ in range(5)]
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
    assert run() == 0  # resumed: no model call is needed (the script would run out)
    assert len((tmp_path / "out" / "results.jsonl").read_text().splitlines()) == 6


def test_eval_rejects_unknown_strategy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"question": "q", "answer": "1", "kind": "number"}\n')
    assert main(["eval", str(rows), "--strategies", "magic"]) == 2
    assert "unknown strategy 'magic'" in capsys.readouterr().err
