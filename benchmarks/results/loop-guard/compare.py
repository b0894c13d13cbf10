"""The end-to-end run before and after the guard (README.md): seconds per question, replies
that ran out of tokens, replies changed, and whether the stream showed the reply kept.

    python benchmarks/results/loop-guard/compare.py [BEFORE.jsonl AFTER.jsonl]

(default: before.jsonl after.jsonl, this folder's first run).
"""

import json
import random
import sys
from pathlib import Path

from murmurnet.models.loops import loop_start
from murmurnet.question import detect_language

HERE = Path("benchmarks/results/loop-guard")


def load(name: str) -> dict[str, dict]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return {record["question"]: record for record in map(json.loads, lines)}


def saved_interval(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean seconds saved (2000 resamples, seed 0)."""
    rng = random.Random(0)
    means = sorted(
        sum(b - a for b, a in (rng.choice(pairs) for _ in pairs)) / len(pairs) for _ in range(2000)
    )
    return means[49], means[1949]


names = sys.argv[1:3] or ["before.jsonl", "after.jsonl"]
before, after = load(names[0]), load(names[1])
questions = [q for q in before if q in after]
print(f"{len(questions)} open questions, the defaults: {names[0]} against {names[1]}\n")
print("| questions | s / q before | s / q after | saved (95 % CI) | ran out of tokens | changed |")
print("|---|---:|---:|---:|---:|---:|")
for name, group in (
    ("Japanese", [q for q in questions if detect_language(q) == "ja"]),
    ("English", [q for q in questions if detect_language(q) == "en"]),
    ("all", questions),
):
    pairs = [(before[q]["seconds"], after[q]["seconds"]) for q in group]
    low, high = saved_interval(pairs)
    mean_before = sum(b for b, _ in pairs) / len(pairs)
    mean_after = sum(a for _, a in pairs) / len(pairs)
    out_before = sum(before[q]["finish_reason"] == "length" for q in group)
    out_after = sum(after[q]["finish_reason"] == "length" for q in group)
    changed = sum(before[q]["reply"] != after[q]["reply"] for q in group)
    print(
        f"| {name} ({len(group)}) | {mean_before:.2f} | {mean_after:.2f} "
        f"| {mean_before - mean_after:.2f} ({low:.2f} – {high:.2f}) "
        f"| {out_before} → {out_after} | {changed} |"
    )
kept = sum(after[q]["streamed"] == after[q]["reply"] for q in questions)
prefix = sum(before[q]["reply"].startswith(after[q]["reply"]) for q in questions)
looping = sum(loop_start(after[q]["reply"]) is not None for q in questions)
print(f"\nstream = reply kept: {kept} of {len(questions)}")
print(f"reply after = the start of the reply before: {prefix} of {len(questions)}")
print(f"replies after that still hold a loop: {looping}")
