"""Rows better / worse when each wording's cut replaces the stored answer, by length bar.

A cut counts only when it is shorter than the answer and inside it, as the murmur keeps it.

    python benchmarks/results/span-snap/span_snap_score.py snap_151to300.jsonl SLICES_DIR
"""

import json
import re
import sys
from pathlib import Path

from murmurnet.answers import strip_spaces_and_punctuation as norm
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.scoring import score

records = [json.loads(line) for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()]
rows = {}
for path in sorted(Path(sys.argv[2]).glob("jsquad*")):
    first = int(re.search(r"rows(\d+)to", path.name).group(1))  # type: ignore[union-attr]
    for offset, row in enumerate(load_rows(path)):
        rows[first - 1 + offset] = row


def kept(long: str, cut: str) -> str:
    short, whole = norm(cut or ""), norm(long or "")
    return cut if short and len(short) < len(whole) and short in whole else long


print(f"{len(records)} rows")
for bar in (8, 12, 15, 20, 25):
    line = f"over {bar:2d}:"
    for wording in range(3):
        better = worse = 0
        for record in records:
            if len(norm(record["long"] or "")) <= bar:
                continue
            right = score(
                kept(record["long"], record["keys"][wording]), rows[record["row"]]
            ).correct
            better += right and not record["correct"]
            worse += record["correct"] and not right
        line += f"  v{wording + 1} +{better} / -{worse}"
    print(line)
