"""The GSM8K dev rows on which the solver's ballot can decide whether the murmur's vote is
right: the vote (plain answer 1, solver 1, greedy program 2, tie to the plain answer) is
counted with the solver agreeing with the plain answer, with the program, and with neither;
a row is decisive when those outcomes are not all right or all wrong. Only there can
another solver change the score, so only there is it asked again (`solver_greedy.py`).

    python benchmarks/results/solver-greedy/decisive.py > benchmarks/results/solver-greedy/rows.txt
"""

import json
from pathlib import Path

from murmurnet.answers import read_answer
from murmurnet.evaluation.dataset import load_rows
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.short import Ballot, tally
from murmurnet.murmur.stages import CHECKED_WEIGHT, with_program_output
from murmurnet.tools.calculator import program_in

TEXTS = stage_texts("en")


def digest(row_id: str) -> str:
    return row_id.rsplit("-", 1)[1]


def vote(ballots: list[tuple[str, float]]) -> str:
    """The shipped vote (`tally`) over (answer, weight) ballots, the first the plain answer;
    one weighing `CHECKED_WEIGHT` is a program that ran."""
    cast = [Ballot(i, "", a, a, w, w >= CHECKED_WEIGHT) for i, (a, w) in enumerate(ballots, 1)]
    return tally(cast, "number").committed or ""


def program_key(record: dict, question: str) -> str:
    """The greedy program's ballot as shipped now (the guard skips code blocks, so the
    text written with the guard off is the shipped one)."""
    shown, ran = with_program_output(TEXTS, record["text"].strip())
    if (record["cut"] and not ran) or (not ran and program_in(shown) is not None):
        return ""
    return read_answer("number", shown, (), question)


def ballots() -> list[tuple[int, str, str, str, str]]:
    """Each row: its index, gold answer, plain ballot, stored (sampled) solver ballot and
    greedy program ballot."""
    rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")
    stored = Path("benchmarks/results/eval-dev900/results.jsonl").read_text().splitlines()
    murmur = {
        digest(r["id"]): r
        for r in map(json.loads, stored)
        if r["kind"] == "number" and r["strategy"] == "murmur"
    }
    programs = Path("benchmarks/results/program-guard/programs.jsonl").read_text().splitlines()
    found = []
    for record in map(json.loads, programs):
        row = rows[record["row"]]
        said = {c["role"]: c["text"] for c in murmur[digest(row.id)]["contributions"]}
        plain, solver = (
            ""
            if "could not be run" in said.get(role, "")
            else read_answer("number", said.get(role, ""), (), row.question)
            for role in ("plain", "solver")
        )
        found.append((record["row"], row.answer, plain, solver, program_key(record, row.question)))
    return found


if __name__ == "__main__":
    for index, gold, plain, _, program in ballots():
        outcomes = {
            vote([(plain, 1), (solver, 1), (program, 2)]) == gold
            for solver in (plain, program, "\x00neither")
        }
        if len(outcomes) > 1:
            print(index)
