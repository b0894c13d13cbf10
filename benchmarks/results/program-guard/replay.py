"""The plan's replay: each greedy program of `programs.jsonl` (written with the repeat guard
off) as the shipped guard would have cut it and as the guard that skips code blocks would,
run in the calculator of the running checkout, voted with the stored plain and solver
ballots of `../eval-dev900/` (a program that ran weighs 2), against the stored `plain`
strategy and against each other. McNemar, exact.

    python benchmarks/results/program-guard/replay.py \
        benchmarks/results/program-guard/programs.jsonl
"""

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from murmurnet.answers import read_answer
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.stats import mcnemar_exact
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.short import Ballot, tally
from murmurnet.murmur.stages import CHECKED_WEIGHT, with_program_output
from murmurnet.tools.calculator import program_in

MIN_REPEATED_LINE = 6


def repeated(text: str) -> bool:
    """The shipped guard: the line just completed appeared earlier in the text."""
    lines = [line.strip() for line in text.rstrip("\n").split("\n")]
    return len(lines[-1]) >= MIN_REPEATED_LINE and lines[-1] in lines[:-1]


def repeated_outside_code(text: str) -> bool:
    """The new guard: the same, unless the line is inside an open code block."""
    lines = [line.strip() for line in text.rstrip("\n").split("\n")]
    return repeated(text) and sum(line.startswith("```") for line in lines[:-1]) % 2 == 0


def guarded(text: str, fires: Callable[[str], bool]) -> tuple[str, bool]:
    """The reply as the engine would have ended it, checking at every line's end, and
    whether the guard cut it."""
    for end in (i + 1 for i, char in enumerate(text) if char == "\n"):
        if fires(text[:end]):
            kept = text[:end]
            return kept[: kept.rstrip("\n").rfind("\n") + 1].rstrip(), True
    return text, False


def program_key(text: str, limit_reached: bool, question: str) -> str:
    """The program's ballot as `read_ballot` reads it; "" abstains."""
    shown, ran = with_program_output(TEXTS, text.strip())
    failed = not ran and program_in(shown) is not None
    if (limit_reached and not ran) or failed:
        return ""
    return read_answer("number", shown, (), question)


def ballot(text: str, question: str) -> str:
    return "" if "could not be run" in text else read_answer("number", text, (), question)


def vote(ballots: list[tuple[str, float]]) -> str:
    """The shipped vote (`tally`) over (answer, weight) ballots, the first the plain answer;
    one weighing `CHECKED_WEIGHT` is a program that ran."""
    cast = [Ballot(i, "", a, a, w, w >= CHECKED_WEIGHT) for i, (a, w) in enumerate(ballots, 1)]
    return tally(cast, "number").committed or ""


def digest(row_id: str) -> str:
    """A row's id without its slice's name: the stored runs name the slice they came from."""
    return row_id.rsplit("-", 1)[1]


def paired(name: str, new: list[bool], old: list[bool]) -> None:
    better = sum(n and not o for n, o in zip(new, old, strict=True))
    worse = sum(o and not n for n, o in zip(new, old, strict=True))
    p = mcnemar_exact(better, worse)
    print(f"{name}: {better} better / {worse} worse, p = {p:.3f}")


TEXTS = stage_texts("en")
rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")
stored = [
    json.loads(line)
    for line in Path("benchmarks/results/eval-dev900/results.jsonl").read_text().splitlines()
]
murmur = {digest(r["id"]): r for r in stored if r["kind"] == "number" and r["strategy"] == "murmur"}
plain_right = {
    digest(r["id"]): r["correct"]
    for r in stored
    if r["kind"] == "number" and r["strategy"] == "plain"
}
right: dict[str, list[bool]] = {
    name: [] for name in ("plain", "old", "new", "old vote", "new vote")
}
cut_by = Counter[str]()
tokens: list[int] = []
for record in map(json.loads, Path(sys.argv[1]).read_text().splitlines()):
    row = rows[record["row"]]
    said = {c["role"]: c["text"] for c in murmur[digest(row.id)]["contributions"]}
    plain, solver = (ballot(said.get(role, ""), row.question) for role in ("plain", "solver"))
    tokens.append(record["tokens"])
    right["plain"].append(plain_right[digest(row.id)])
    for name, fires in (("old", repeated), ("new", repeated_outside_code)):
        text, cut = guarded(record["text"], fires)
        cut_by[name] += cut
        key = program_key(text, record["cut"] and not cut, row.question)
        right[name].append(key == row.answer)
        right[f"{name} vote"].append(vote([(plain, 1), (solver, 1), (key, 2)]) == row.answer)
n = len(tokens)
print(f"rows: {n}; programs cut by the guard: shipped {cut_by['old']}, new {cut_by['new']}")
print(f"tokens per program with the guard off: mean {sum(tokens) / n:.1f}, max {max(tokens)}")
for name, hits in right.items():
    print(f"{name}: {sum(hits)} / {n} ({100 * sum(hits) / n:.1f} %)")
paired("new program against shipped", right["new"], right["old"])
paired("new vote against shipped vote", right["new vote"], right["old vote"])
paired("new vote against plain", right["new vote"], right["plain"])
paired("shipped vote against plain", right["old vote"], right["plain"])
