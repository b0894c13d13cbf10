"""Blind pairs for a judge: for each question that `replies.jsonl` answers by both strategies,
the two replies as A and B in an order drawn with a fixed seed; `pairs-A-B.md` shows them
without strategy names, `key-A-B.json` says which is which (for `score.py`, not the judge).

    cd benchmarks/results/open-agreement && python pairs.py agreement plain
    python pairs.py pivot plain 3    # replies-3.jsonl -> pairs-pivot-plain-3.md, key-…-3.json
"""

import json
import random
import sys
from pathlib import Path

first, second = sys.argv[1], sys.argv[2]
run = f"-{sys.argv[3]}" if len(sys.argv) > 3 else ""
replies: dict[str, dict[str, str]] = {}
for line in Path(f"replies{run}.jsonl").read_text(encoding="utf-8").splitlines():
    record = json.loads(line)
    replies.setdefault(record["question"], {})[record["strategy"]] = record["reply"]
both = [(q, by) for q, by in replies.items() if first in by and second in by]
draw = random.Random(20261128)
key, out = {}, ["# Pairs to judge", ""]
for number, (question, by) in enumerate(both, 1):
    order = [first, second]
    draw.shuffle(order)
    key[str(number)] = {"order": order, "question": question}
    out += [f"## {number}", "", f"**Question:** {question}", ""]
    for label, strategy in zip("AB", order, strict=True):
        out += [f"**Reply {label}:**", "", "````", by[strategy].strip(), "````", ""]
Path(f"pairs-{first}-{second}{run}.md").write_text("\n".join(out), encoding="utf-8")
Path(f"key-{first}-{second}{run}.json").write_text(
    json.dumps(key, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
)
