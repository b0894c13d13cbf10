"""Unblinds `judgments.jsonl` (one line per pair: {"pair": N, "better": "A" | "B" | "tie"})
with `key.json`: how often the murmur's reply was judged better than plain's, per language,
and the two-sided sign test over the pairs that were not ties.

    cd benchmarks/results/open-vs-plain && python score.py
"""

import json
from pathlib import Path

from murmurnet.evaluation.stats import mcnemar_exact

key = json.loads(Path("key.json").read_text())
counts: dict[str, dict[str, int]] = {}
for line in Path("judgments.jsonl").read_text().splitlines():
    judged = json.loads(line)
    pair = str(judged["pair"])
    language = "ja" if int(pair) <= 20 else "en"
    won = "tie" if judged["better"] == "tie" else key[pair]["AB".index(judged["better"])]
    for group in (language, "all"):
        tally = counts.setdefault(group, {"murmur": 0, "plain": 0, "tie": 0})
        tally[won] += 1
for group, tally in counts.items():
    p = mcnemar_exact(tally["murmur"], tally["plain"])
    print(
        f"{group}: murmur better {tally['murmur']}, plain better {tally['plain']},"
        f" ties {tally['tie']}; sign test p = {p:.3f}"
    )
