"""The plan's replay: every greedy program of `../program-guard/programs.jsonl` run by the
calculator's interpreter (in this process) with names looked up strictly, as before, and
with the other-capitals rule, voted with the stored plain and solver ballots of
`../eval-dev900/` (the program weighing 2). McNemar, exact.

    python benchmarks/results/name-case/replay.py
"""

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, "benchmarks/results/solver-greedy")
from decisive import ballots, vote

from murmurnet.answers import read_answer
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.stats import mcnemar_exact
from murmurnet.tools import calc_flow, calc_interpreter
from murmurnet.tools.calculator import CalculatorError, program_in

lenient = calc_flow.look_up


def strict(name: str, scopes: list[dict[str, Any]]) -> Any:
    for scope in scopes:
        if name in scope:
            return scope[name]
    raise CalculatorError(f"name {name!r} is not defined")


def key(text: str, cut: bool, question: str) -> str:
    """The program's ballot: what it printed, read as an answer; "" when it failed."""
    code = program_in(text.strip())
    if code is None:
        return "" if cut else read_answer("number", text, (), question)
    try:
        return read_answer("number", calc_interpreter.interpret(code), (), question)
    except CalculatorError:
        return ""


rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")
programs = {
    r["row"]: r
    for r in map(
        json.loads, Path("benchmarks/results/program-guard/programs.jsonl").read_text().splitlines()
    )
}
right: dict[str, list[bool]] = {n: [] for n in ("strict", "lenient", "strict vote", "lenient vote")}
for index, gold, plain, solver, _ in ballots():
    record, question = programs[index], rows[index].question
    keys = {}
    for name, rule in (("strict", strict), ("lenient", lenient)):
        calc_interpreter.look_up = rule  # type: ignore[assignment]
        keys[name] = key(record["text"], record["cut"], question)
        right[name].append(keys[name] == gold)
        right[f"{name} vote"].append(vote([(plain, 1), (solver, 1), (keys[name], 2)]) == gold)
    if keys["strict"] != keys["lenient"]:
        print(f"row {index}: {keys['strict']!r} -> {keys['lenient']!r} (gold {gold})")
for name, hits in right.items():
    print(f"{name}: {sum(hits)} / {len(hits)}")
for what in ("", " vote"):
    new, old = right[f"lenient{what}"], right[f"strict{what}"]
    better = sum(n and not o for n, o in zip(new, old, strict=True))
    worse = sum(o and not n for n, o in zip(new, old, strict=True))
    print(
        f"lenient{what} against strict: {better} better / {worse} worse, "
        f"p = {mcnemar_exact(better, worse):.3f}"
    )
