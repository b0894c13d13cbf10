"""The README's replays: the variants' programs voted with the stored plain and solver
ballots of `../eval-dev900/`, and, over all 300 rows of `../program-greedy/`, who was right
where the greedy program and the plain answer disagreed.

    python benchmarks/results/program-example/replay.py \
        benchmarks/results/program-example/variants_1to40.jsonl \
        benchmarks/results/program-greedy/gsm_prog2.jsonl
"""

import json
import sys
from collections import Counter
from pathlib import Path

from murmurnet.answers import read_answer
from murmurnet.evaluation.dataset import load_rows

RECORDS = "benchmarks/results/eval-dev900/results.jsonl"
ROWS = "../shared/eval/gsm8k-dev300.jsonl"


def lines(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def key(text: str, question: str) -> str:
    return "" if "could not be run" in text else read_answer("number", text, (), question)


def vote(ballots: list[tuple[str, float]]) -> str:
    """The heaviest answer; a tie goes to the plain answer (ballot 0), else the earliest."""
    weight: Counter[str] = Counter()
    for answer, w in ballots:
        if answer:
            weight[answer] += w
    if not weight:
        return ""
    top = max(weight.values())
    leading = [a for a in weight if weight[a] == top]
    plain = ballots[0][0]
    return plain if plain in leading else next(a for a, _ in ballots if a in leading)


by_question = {row.question: row for row in load_rows(ROWS)}
stored = {
    (r["id"].rsplit("-", 1)[1], r["strategy"]): r for r in lines(RECORDS) if r["kind"] == "number"
}


def ballots(question: str) -> tuple[str, str, str, bool]:
    """The row's gold answer, and its stored plain and solver ballots; whether it was plain's
    strategy that got it right."""
    row = by_question[question]
    digest = row.id.rsplit("-", 1)[1]
    said = {c["role"]: c["text"] for c in stored[(digest, "murmur")]["contributions"]}
    plain, solver = (key(said.get(role, ""), question) for role in ("plain", "solver"))
    return row.answer, plain, solver, stored[(digest, "plain")]["correct"]


rules: dict[str, int] = Counter()
variants = lines(sys.argv[1])
for p in variants:
    gold, kp, ks, plain_right = ballots(p["question"])
    a, b, c, d = (p[name]["key"] for name in "ABCD")
    rules["plain strategy"] += plain_right
    for name, program in zip("ABCD", (a, b, c, d), strict=True):
        rules[f"as shipped, program {name} (weight 2)"] += (
            vote([(kp, 1), (ks, 1), (program, 2)]) == gold
        )
    rules["plain, solver, A, B, C (weight 1)"] += (
        vote([(kp, 1), (ks, 1), (a, 1), (b, 1), (c, 1)]) == gold
    )
    rules["plain, A, B, C, D (weight 1)"] += vote([(kp, 1), (a, 1), (b, 1), (c, 1), (d, 1)]) == gold
    rules["plain, A, C (no solver)"] += vote([(kp, 1), (a, 1), (c, 1)]) == gold
    rules["oracle (any ballot right)"] += gold in (kp, ks, a, b, c, d)
for name, right in rules.items():
    print(f"{name}: {right} / {len(variants)}")

disagreements: Counter[str] = Counter()
for p in lines(sys.argv[2]):
    gold, kp, _, _ = ballots(p["question"])
    program = p["keys"][0]
    if program and kp and program != kp:
        who = "program" if program == gold else "plain" if kp == gold else "neither"
        disagreements[who] += 1
print(f"greedy program and plain answer disagree (both numbers): {dict(disagreements)}")
