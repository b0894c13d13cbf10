"""The blind pairs for a judge: for each question, the `plain` and `murmur` replies of
`replies.jsonl` as A and B in an order drawn with a fixed seed; `pairs.md` shows them
without strategy names, `key.json` says which is which (for `score.py`, not for the judge).

    cd benchmarks/results/open-vs-plain && python pairs.py
"""

import json
import random
from pathlib import Path

replies: dict[str, dict[str, str]] = {}
for line in Path("replies.jsonl").read_text(encoding="utf-8").splitlines():
    record = json.loads(line)
    replies.setdefault(record["question"], {})[record["strategy"]] = record["reply"]
draw = random.Random(20261127)
key, out = {}, ["# Pairs to judge", ""]
for number, (question, by) in enumerate(replies.items(), 1):
    order = ["plain", "murmur"]
    draw.shuffle(order)
    key[str(number)] = order
    out += [f"## {number}", "", f"**Question:** {question}", ""]
    for label, strategy in zip("AB", order, strict=True):
        out += [f"**Reply {label}:**", "", "````", by[strategy].strip(), "````", ""]
Path("pairs.md").write_text("\n".join(out), encoding="utf-8")
Path("key.json").write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")
