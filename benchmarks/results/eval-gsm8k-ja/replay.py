"""The plan's replay (README.md): the vote on Japanese calculation rows counted from stored
ballots under each rule, against the shipped murmur and `plain` of a stored run of the same
rows (McNemar, exact). Programs run in the calculator of the running checkout.

    python benchmarks/results/eval-gsm8k-ja/replay.py RUN/results.jsonl ENGLISH.jsonl
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

from murmurnet.answers import read_answer
from murmurnet.evaluation.stats import paired_difference
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.short import Ballot, tally
from murmurnet.murmur.stages import CHECKED_WEIGHT, with_program_output
from murmurnet.tools.calculator import program_in

TEXTS = stage_texts("ja")
PROGRAMS = ("program", "program 2", "program 3")
RULES = {
    "R1 English working": ("anchor", "solver", "program", "program 2", "program 3"),
    "R2 English programs": ("ja plain", "ja solver", "program", "program 2", "program 3"),
}


RAN = TEXTS.tool_result.split("{")[0]
FAILED = TEXTS.tool_failed.split("{")[0]


def program_key(text: str, cut: bool) -> tuple[str, bool]:
    """The ballot as `read_ballot` reads it, and whether the program ran; "" abstains."""
    shown, ran = with_program_output(TEXTS, text.strip())
    if (cut and not ran) or (not ran and program_in(shown) is not None):
        return "", False
    return read_answer("number", shown, (), ""), ran


def stored_key(text: str) -> tuple[str, bool]:
    """A stored contribution's ballot: a program's text already says what it printed."""
    if FAILED in text:
        return "", False
    return read_answer("number", text, (), ""), RAN in text


def vote(keys: dict[str, tuple[str, bool]], names: tuple[str, ...]) -> str:
    cast = [
        Ballot(i, name, keys[name][0], keys[name][0], CHECKED_WEIGHT if ran else 1.0, ran)
        for i, name in enumerate(names, 1)
        for ran in [keys[name][1] and bool(keys[name][0])]
    ]
    return tally(cast, "number").committed or ""


def paired(name: str, new: list[bool], old: list[bool]) -> None:
    compared = paired_difference(old, new)
    low, high = (100 * bound for bound in (compared.difference.low, compared.difference.high))
    print(
        f"  {name}: {100 * compared.difference.estimate:+.1f} ({low:+.1f} - {high:+.1f}),"
        f" {compared.wins} better / {compared.losses} worse, p = {compared.p_value:.3f}"
    )


stored = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines()]
english = {r["id"]: r for r in map(json.loads, Path(sys.argv[2]).read_text().splitlines())}
murmur = {r["id"]: r for r in stored if r["strategy"] == "murmur"}
plain = {r["id"]: r for r in stored if r["strategy"] == "plain"}
ids = [i for i in murmur if i in plain and i in english]
right: dict[str, list[bool]] = defaultdict(list)
for row_id in ids:
    answer = murmur[row_id]["answer"]
    right["plain (stored)"].append(plain[row_id]["correct"])
    right["R0 shipped murmur (stored)"].append(murmur[row_id]["correct"])
    keys: dict[str, tuple[str, bool]] = {}
    programs = 0
    for contribution in murmur[row_id]["contributions"]:
        role = contribution["role"]
        if role == "programmer":
            programs += 1
            name = f"ja program {programs}"
        else:
            name = f"ja {role}"
        keys[name] = stored_key(contribution["text"])
    for name, reply in english[row_id]["replies"].items():
        if name in PROGRAMS:
            keys[name] = program_key(reply["text"], reply["cut"])
        else:
            key = "" if reply["cut"] else read_answer("number", reply["text"], (), "")
            keys[name] = key, False
    for name, (key, _) in sorted(keys.items()):
        right[f"{name} alone"].append(key == answer)
    for rule, names in RULES.items():
        right[rule].append(vote(keys, names) == answer)
n = len(ids)
seconds = [english[i]["batch_seconds"] for i in ids]
print(f"{n} rows; seconds per batch of the English ballots: mean {sum(seconds) / n:.2f}")
for name, hits in right.items():
    print(f"{name}: {sum(hits)} / {n} ({100 * sum(hits) / n:.1f} %)")
for rule in RULES:
    print(rule)
    paired("against R0 shipped", right[rule], right["R0 shipped murmur (stored)"])
    paired("against plain", right[rule], right["plain (stored)"])
paired("R0 shipped against plain", right["R0 shipped murmur (stored)"], right["plain (stored)"])
