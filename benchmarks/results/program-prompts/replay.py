"""The plan's replay (README.md): the vote counted under each rule from stored ballots, the
plain and solver answers of `../eval-dev900/`, the shipped greedy program of
`../program-guard/programs.jsonl` and the two programs of `programs.jsonl`, each program run
in the calculator of the running checkout; against the shipped rule and the stored `plain`
strategy, McNemar exact.

    python benchmarks/results/program-prompts/replay.py FIRST END [RESULTS.jsonl:STRATEGY]

With a stored run named last, R0 and R1 are also compared with it on the rows it holds.
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

from murmurnet.answers import read_answer
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.stats import paired_difference
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.short import Ballot, tally
from murmurnet.murmur.stages import CHECKED_WEIGHT, with_program_output
from murmurnet.tools.calculator import program_in

HERE = Path("benchmarks/results/program-prompts")
RULES: dict[str, tuple[tuple[str, float], ...]] = {
    "R0 shipped": (("plain", 1), ("solver", 1), ("shipped", CHECKED_WEIGHT)),
    "R1 three programs weigh 2": (
        ("plain", 1),
        ("solver", 1),
        ("shipped", CHECKED_WEIGHT),
        ("function", CHECKED_WEIGHT),
        ("given-asked", CHECKED_WEIGHT),
    ),
    "R2 three programs weigh 1": (
        ("plain", 1),
        ("solver", 1),
        ("shipped", 1),
        ("function", 1),
        ("given-asked", 1),
    ),
    "R3 three programs, no solver": (
        ("plain", 1),
        ("shipped", CHECKED_WEIGHT),
        ("function", CHECKED_WEIGHT),
        ("given-asked", CHECKED_WEIGHT),
    ),
    "R4 two programs": (
        ("plain", 1),
        ("solver", 1),
        ("shipped", CHECKED_WEIGHT),
        ("function", CHECKED_WEIGHT),
    ),
}
PROGRAMS = ("shipped", "function", "given-asked")


def program_key(text: str, limit_reached: bool, question: str) -> str:
    """The program's ballot as `read_ballot` reads it; "" abstains."""
    shown, ran = with_program_output(TEXTS, text.strip())
    failed = not ran and program_in(shown) is not None
    if (limit_reached and not ran) or failed:
        return ""
    return read_answer("number", shown, (), question)


def prose_key(text: str, question: str) -> str:
    return "" if "could not be run" in text else read_answer("number", text, (), question)


def vote(keys: dict[str, str], rule: tuple[tuple[str, float], ...]) -> str:
    """The shipped `tally` over the rule's ballots, the plain answer first; a program that
    ran is `checked` whatever it weighs."""
    cast = [
        Ballot(i, name, keys[name], keys[name], weight, name in PROGRAMS and keys[name] != "")
        for i, (name, weight) in enumerate(rule, 1)
    ]
    return tally(cast, "number").committed or ""


def digest(row_id: str) -> str:
    """A row's id without its slice's name: the stored runs name the slice they came from."""
    return row_id.rsplit("-", 1)[1]


def paired(name: str, new: list[bool], old: list[bool]) -> None:
    compared = paired_difference(old, new)
    low, high = (100 * bound for bound in (compared.difference.low, compared.difference.high))
    print(
        f"  {name}: {100 * compared.difference.estimate:+.1f} ({low:+.1f} - {high:+.1f}),"
        f" {compared.wins} better / {compared.losses} worse, p = {compared.p_value:.3f}"
    )


TEXTS = stage_texts("en")
first, end = int(sys.argv[1]), int(sys.argv[2])
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
programs: dict[int, dict[str, dict]] = defaultdict(dict)
for line in Path("benchmarks/results/program-guard/programs.jsonl").read_text().splitlines():
    record = json.loads(line)
    programs[record["row"]]["shipped"] = record
for line in (HERE / "programs.jsonl").read_text().splitlines():
    record = json.loads(line)
    programs[record["row"]][record["prompt"]] = record
indices = [i for i in range(first, end) if len(programs[i]) == len(PROGRAMS)]
right: dict[str, list[bool]] = defaultdict(list)
seconds: list[float] = []
for index in indices:
    row = rows[index]
    said = {c["role"]: c["text"] for c in murmur[digest(row.id)]["contributions"]}
    keys = {role: prose_key(said.get(role, ""), row.question) for role in ("plain", "solver")}
    for name in PROGRAMS:
        record = programs[index][name]
        keys[name] = program_key(record["text"], record["cut"], row.question)
        right[f"program {name} alone"].append(keys[name] == row.answer)
    seconds.append(programs[index]["function"]["batch_seconds"])
    right["plain (stored strategy)"].append(plain_right[digest(row.id)])
    for rule_name, rule in RULES.items():
        right[rule_name].append(vote(keys, rule) == row.answer)
n = len(indices)
print(f"GSM8K dev rows {first + 1}-{end}: {n} with all three programs")
print(f"seconds per batch of the two new programs: mean {sum(seconds) / n:.2f}")
for name, hits in right.items():
    print(f"{name}: {sum(hits)} / {n} ({100 * sum(hits) / n:.1f} %)")
for rule_name in list(RULES)[1:]:
    print(rule_name)
    paired("against R0 shipped", right[rule_name], right["R0 shipped"])
    paired("against plain", right[rule_name], right["plain (stored strategy)"])
paired("R0 shipped against plain", right["R0 shipped"], right["plain (stored strategy)"])
if len(sys.argv) > 3:
    path, strategy = sys.argv[3].rsplit(":", 1)
    other = {
        digest(r["id"]): r["correct"]
        for r in map(json.loads, Path(path).read_text().splitlines())
        if r["strategy"] == strategy
    }
    held = [n for n, i in enumerate(indices) if digest(rows[i].id) in other]
    theirs = [other[digest(rows[indices[n]].id)] for n in held]
    print(f"{strategy} ({path}), {len(held)} rows: {100 * sum(theirs) / len(held):.1f} %")
    for rule_name in ("R0 shipped", "R1 three programs weigh 2"):
        paired(f"{rule_name} against it", [right[rule_name][n] for n in held], theirs)
