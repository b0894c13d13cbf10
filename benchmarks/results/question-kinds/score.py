"""The blind judgments of the re-routed questions' answers (`judgments.jsonl`, by a helper
that saw only `pairs.md`), unblinded with `key.json`: right before and after, by the path
each question takes now, McNemar's exact p.

    python benchmarks/results/question-kinds/score.py
"""

import json
from collections import defaultdict
from pathlib import Path

from murmurnet.evaluation.stats import paired_difference

HERE = Path("benchmarks/results/question-kinds")
key = json.loads((HERE / "key.json").read_text(encoding="utf-8"))
judged = [json.loads(line) for line in (HERE / "judgments.jsonl").read_text().splitlines()]
after = [json.loads(line) for line in (HERE / "answers-after.jsonl").read_text().splitlines()]
before = [json.loads(line) for line in (HERE / "answers-before.jsonl").read_text().splitlines()]
right: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
for judgment, now in zip(judged, after, strict=True):
    sides = key[str(judgment["n"])]
    for label in ("A", "B"):
        for group in (now["kind"], "all"):
            right[group][sides[label]].append(judgment[label])
for group, runs in sorted(right.items(), key=lambda item: item[0] == "all"):
    paired = paired_difference(runs["before"], runs["after"])
    print(
        f"{group}: {len(runs['after'])} questions, right before {sum(runs['before'])}, "
        f"after {sum(runs['after'])}; {paired.wins} better, {paired.losses} worse, "
        f"p = {paired.p_value:.3f}"
    )
seconds = [sum(r["seconds"] for r in run) / len(run) for run in (before, after)]
print(f"seconds per question: before {seconds[0]:.2f}, after {seconds[1]:.2f}")
