"""The blind judgments of the re-routed questions' answers (`judgments.jsonl`, by a helper
that saw only `pairs.md`), unblinded with `key.json`: right per run, by the path each
question takes now, and each later run against the first (better / worse, McNemar exact).

    python benchmarks/results/question-kinds/score.py
"""

import json
from collections import defaultdict
from pathlib import Path

from murmurnet.evaluation.stats import paired_difference

HERE = Path("benchmarks/results/question-kinds")


def lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines()]


key = json.loads((HERE / "key.json").read_text(encoding="utf-8"))
runs = list(next(iter(key.values())).values())
order = sorted(runs)  # answers-after, answers-after-fix, answers-before
base = "answers-before"
kinds = [record["kind"] for record in lines("answers-after-fix.jsonl")]
right: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
for judgment, kind in zip(lines("judgments.jsonl"), kinds, strict=True):
    for label, run in key[str(judgment["n"])].items():
        for group in (kind, "all"):
            right[group][run].append(judgment[label])
seconds = {run: sum(r["seconds"] for r in lines(f"{run}.jsonl")) / len(kinds) for run in order}
for group, by_run in sorted(right.items(), key=lambda item: item[0] == "all"):
    counts = ", ".join(f"{run} {sum(by_run[run])}" for run in order)
    print(f"{group} ({len(by_run[base])} questions, read as now): right: {counts}")
    for run in order:
        if run != base:
            paired = paired_difference(by_run[base], by_run[run])
            print(
                f"  {run} against {base}: {paired.wins} better, {paired.losses} worse, "
                f"p = {paired.p_value:.3f}"
            )
print("seconds per question: " + ", ".join(f"{run} {seconds[run]:.2f}" for run in order))
