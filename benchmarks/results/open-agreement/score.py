"""Unblinds `judgments-A-B.jsonl` (one line per pair: {"pair": N, "better": "A" | "B" |
"tie"}) with `key-A-B.json`: how often each strategy's reply was judged better, by question
set (the 40 questions of open-vs-plain, the 40 written for this run) and language, with the
two-sided sign test over the pairs that were not ties; and seconds per question.

    cd benchmarks/results/open-agreement && python score.py agreement plain
    python score.py pivot plain 3    # the confirmation: replies-3.jsonl, judgments-…-3.jsonl
"""

import json
import sys
from pathlib import Path
from statistics import mean

from murmurnet.evaluation.stats import mcnemar_exact

first, second = sys.argv[1], sys.argv[2]
run = f"-{sys.argv[3]}" if len(sys.argv) > 3 else ""
data = Path("../../data")
new = {
    json.loads(line)["question"]
    for name in ("ja-open-2", "en-open-2")
    for line in (data / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
}
key = json.loads(Path(f"key-{first}-{second}{run}.json").read_text(encoding="utf-8"))
counts: dict[str, dict[str, int]] = {}
for line in Path(f"judgments-{first}-{second}{run}.jsonl").read_text(encoding="utf-8").splitlines():
    judged = json.loads(line)
    entry = key[str(judged["pair"])]
    question = entry["question"]
    won = "tie" if judged["better"] == "tie" else entry["order"]["AB".index(judged["better"])]
    language = "en" if question.isascii() else "ja"
    questions = "third 40" if run else "new 40" if question in new else "first 40"
    for group in (f"{questions} {language}", questions, "all"):
        tally = counts.setdefault(group, {first: 0, second: 0, "tie": 0})
        tally[won] += 1
for group in sorted(counts, key=lambda g: (g == "all", g)):
    tally = counts[group]
    p = mcnemar_exact(tally[first], tally[second])
    print(
        f"{group}: {first} better {tally[first]}, {second} better {tally[second]},"
        f" ties {tally['tie']}; sign test p = {p:.3f}"
    )
seconds: dict[str, list[float]] = {}
for line in Path(f"replies{run}.jsonl").read_text(encoding="utf-8").splitlines():
    record = json.loads(line)
    if run or record["question"] in new:
        seconds.setdefault(record["strategy"], []).append(record["seconds"])
for strategy, values in seconds.items():
    where = "this run" if run else "new 40"
    print(f"seconds per question, {where} ({len(values)}): {strategy} {mean(values):.2f}")
