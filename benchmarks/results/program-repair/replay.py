"""The plan's replay: the stored vote of `../program-greedy/` with the repaired program in
place of the failed greedy one, against the same vote with it abstaining (as shipped).

    python benchmarks/results/program-repair/replay.py
"""

import json
from collections import Counter
from pathlib import Path

from murmurnet.answers import read_answer
from murmurnet.evaluation.dataset import load_rows
from murmurnet.murmur.short import Ballot, tally
from murmurnet.murmur.stages import CHECKED_WEIGHT

HERE = Path("benchmarks/results")
rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")
stored = {
    r["id"].rsplit("-", 1)[1]: r
    for r in map(json.loads, (HERE / "eval-dev900/results.jsonl").read_text().splitlines())
    if r["kind"] == "number" and r["strategy"] == "murmur"
}


def key(text: str, question: str) -> str:
    return "" if "could not be run" in text else read_answer("number", text, (), question)


def vote(ballots: list[tuple[str, float]]) -> str:
    """The shipped vote (`tally`) over (answer, weight) ballots, the first the plain answer;
    one weighing `CHECKED_WEIGHT` is a program that ran."""
    cast = [Ballot(i, "", a, a, w, w >= CHECKED_WEIGHT) for i, (a, w) in enumerate(ballots, 1)]
    return tally(cast, "number").committed or ""


counts: Counter[str] = Counter()
for line in (HERE / "program-repair/repairs.jsonl").read_text().splitlines():
    record = json.loads(line)
    row = rows[record["row"]]
    said = {c["role"]: c["text"] for c in stored[row.id.rsplit("-", 1)[1]]["contributions"]}
    plain, solver = (key(said.get(role, ""), row.question) for role in ("plain", "solver"))
    repair = record.get("repair", {})
    repaired = read_answer("number", repair["printed"], (), "") if repair.get("printed") else ""
    counts["failed again (no repair ran: the program ran this time)"] += "repair" not in record
    counts["repaired program ran"] += bool(repaired)
    counts["repaired program right"] += repaired == row.answer
    shipped = vote([(plain, 1), (solver, 1)]) == row.answer
    for weight in (2, 1):
        repaired_vote = vote([(plain, 1), (solver, 1), (repaired, weight)]) == row.answer
        counts[f"weight {weight}: better"] += repaired_vote and not shipped
        counts[f"weight {weight}: worse"] += shipped and not repaired_vote
    counts["shipped vote right"] += shipped
for name, count in counts.items():
    print(f"{name}: {count}")
