"""benchmarks/replay_votes.py: vote rules replayed on stored ballots, without a model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.runner import RESULTS_FILE
from murmurnet.murmur.short import Ballot, tally
from tests.unit.benchmark_scripts import load_benchmark

PROGRAM = "```python\nprint(17)\n```\nProgram output: 17\nAnswer: 17"
FAILED = "```python\nx = 8\nprint(y)\n```\n(The program could not be run: NameError.)"


def record(
    row_id: str, strategy: str, reply: str, extracted: str, correct: bool, **extra: object
) -> str:
    fields = {"id": row_id, "strategy": strategy, "kind": "number", "correct": correct}
    fields |= {"f1": float(correct), "extracted": extracted, "reply": reply, "fingerprint": "f"}
    return json.dumps(fields | extra)


def test_each_rule_is_scored_on_the_same_ballots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows_file = tmp_path / "rows.jsonl"
    questions = [
        ("Tom has 20 apples and eats 3. How many are left?", "17"),
        ("How many?", "5"),
        ("Why is the sky blue?", "42"),
    ]
    rows_file.write_text(
        "".join(
            json.dumps({"question": q, "answer": a, "kind": "number"}) + "\n" for q, a in questions
        )
    )
    first, second, third = (row.id for row in load_rows(rows_file))
    ballots = [
        # a program that ran outweighs two disagreeing prose answers
        [("plain", "He has 23."), ("solver", "Answer: 19"), ("programmer", PROGRAM)],
        # a failed program abstains, so the plain answer keeps the tie
        [("plain", "He has 5."), ("solver", "Answer: 8"), ("programmer", FAILED)],
    ]
    out = tmp_path / "out"
    out.mkdir()
    lines = [
        record(first, "plain", "He has 23.", "23", False),
        record(second, "plain", "He has 5.", "5", True),
        record(third, "plain", "Scattering.", "", False),
        # the full murmur answered this one (no plain agent): no vote to replay, it stands
        record(
            third, "murmur", "42", "42", True, contributions=[{"role": "researcher", "text": "?"}]
        ),
    ]
    for row_id, answer, votes in zip((first, second), ("17", "5"), ballots, strict=True):
        contributions = [{"role": role, "text": text} for role, text in votes]
        lines.append(record(row_id, "murmur", answer, answer, True, contributions=contributions))
    (out / RESULTS_FILE).write_text("\n".join(lines) + "\n")
    script = load_benchmark("replay_votes")
    monkeypatch.setattr(sys, "argv", ["replay_votes.py", str(out), str(rows_file)])
    script.main()
    report = capsys.readouterr().out
    accuracy = {
        cells[1].strip(): cells[3].strip()
        for line in report.split("### all")[1].splitlines()
        if line.startswith("| ") and len(cells := line.split("|")) > 3
    }
    assert accuracy["`plain` (stored)"] == "33.3%"
    assert accuracy["the rule as shipped"] == "100.0%"
    assert accuracy["a program that ran weighs 1, not 2"] == "66.7%"  # the plain 23 keeps a tie
    assert accuracy["a failed program votes its last number (before the fix)"] == "66.7%"
    assert accuracy["the plain ballot alone"] == "66.7%"
    assert "| 3 of 3 |" in report.split("the rule as shipped")[-1].splitlines()[0]


def test_a_heavier_likelihood_wins_with_one_ballot_agreeing() -> None:
    script = load_benchmark("replay_votes")
    votes = [("plain", "犬"), ("solver", "猫"), ("reader", "鳥"), ("likelihood", "猫")]
    ballots = [
        Ballot(agent, role, key, key, 1.0) for agent, (role, key) in enumerate(votes, start=1)
    ]
    assert tally(ballots, "choice").committed == "犬"  # two of four: the plain answer stands
    assert tally(script.likelihood_weighs(1.5)(ballots), "choice").committed == "猫"
    assert tally(script.as_shipped(ballots), "choice").committed == "猫"  # the likelihood alone
