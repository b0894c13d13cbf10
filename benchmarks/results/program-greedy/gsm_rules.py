"""Vote rules replayed on the stored GSM8K ballots plus the extra programs (see README.md).

    python benchmarks/results/program-greedy/gsm_rules.py 0 150 \
        benchmarks/results/program-greedy/gsm_prog2.jsonl
"""

import json
import sys
from collections import Counter
from pathlib import Path

from murmurnet.answers import read_answer
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.stats import paired_difference

RECORDS = "benchmarks/results/eval-dev900/results.jsonl"
ROWS = "../shared/eval/gsm8k-dev300.jsonl"

lo, hi, programs_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
by_question = {row.question: row for row in load_rows(ROWS)}
records = {}
for line in Path(RECORDS).read_text(encoding="utf-8").splitlines():
    record = json.loads(line)
    if record["kind"] == "number":  # the id ends with the row's content hash
        records[(record["id"].rsplit("-", 1)[1], record["strategy"])] = record
extra = [json.loads(line) for line in Path(programs_file).read_text(encoding="utf-8").splitlines()]
extra = [p for p in extra if lo <= p["row"] < hi]


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


rules: dict[str, list[bool]] = {}


def add(name: str, right: bool) -> None:
    rules.setdefault(name, []).append(right)


for p in extra:
    row = by_question[p["question"]]
    digest = row.id.rsplit("-", 1)[1]
    gold = row.answer
    plain_record, murmur = records[(digest, "plain")], records[(digest, "murmur")]
    said = {c["role"]: c["text"] for c in murmur["contributions"]}
    kp = key(said.get("plain", ""), row.question)
    ks = key(said.get("solver", ""), row.question)
    kprog = key(said.get("programmer", ""), row.question)
    ran = "Program output" in said.get("programmer", "")
    g, s1 = p["keys"][:2]
    add("plain (stored strategy)", plain_record["correct"])
    add("murmur (stored)", murmur["correct"])
    add("plain ballot", kp == gold)
    add("stored program", kprog == gold)
    add("greedy program", g == gold)
    add("new sampled program", s1 == gold)
    add("shipped replay", vote([(kp, 1), (ks, 1), (kprog, 2 if ran else 1)]) == gold)
    add("greedy program w2 replaces sampled", vote([(kp, 1), (ks, 1), (g, 2)]) == gold)
    three = [kprog, g, s1]
    add("plain+solver+3 programs w1", vote([(kp, 1), (ks, 1), *((k, 1) for k in three)]) == gold)
    add("plain+3 programs w1", vote([(kp, 1), *((k, 1) for k in three)]) == gold)
    top = Counter(k for k in three if k).most_common(1)
    add("2+ of 3 programs agree else plain", (top[0][0] if top and top[0][1] >= 2 else kp) == gold)
    add("oracle (any ballot right)", gold in (kp, ks, *three))

base = rules["plain (stored strategy)"]
print(f"rows {lo + 1}-{hi}: n={len(base)}")
for name, right in rules.items():
    d = paired_difference(base, right)
    accuracy = sum(right) / len(right)
    print(f"{name:40s} {accuracy:6.1%}  vs plain {d.wins:3d}/{d.losses:3d} p={d.p_value:.3f}")
shipped = rules["shipped replay"]
for name in ("greedy program w2 replaces sampled", "plain+3 programs w1"):
    d = paired_difference(shipped, rules[name])
    low, high = 100 * d.difference.low, 100 * d.difference.high
    print(
        f"{name} vs shipped replay: {100 * d.difference.estimate:+.1f} ({low:+.1f} – {high:+.1f})"
        f" {d.wins}/{d.losses} p={d.p_value:.3f}"
    )
d = paired_difference(base, rules["greedy program w2 replaces sampled"])
low, high = 100 * d.difference.low, 100 * d.difference.high
print(f"candidate vs plain: {100 * d.difference.estimate:+.1f} ({low:+.1f} – {high:+.1f})")
