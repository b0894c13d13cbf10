"""The blind sets of the re-routed questions' answers (README.md): each question with its
answers from the runs named, in random order as A, B, C… (`pairs.md`), and which is which
(`key.json`), for a judge who sees only `pairs.md`.

    python benchmarks/results/question-kinds/pairs.py answers-before answers-after ...
"""

import json
import random
import sys
from pathlib import Path

HERE = Path("benchmarks/results/question-kinds")


def load(name: str) -> dict[str, dict]:
    lines = (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["question"]: record for record in map(json.loads, lines)}


runs = {name: load(name) for name in sys.argv[1:]}
first = next(iter(runs.values()))
rng = random.Random(35)
key, blocks = {}, []
for number, question in enumerate(first, start=1):
    answers = [(name, run[question]["reply"]) for name, run in runs.items()]
    rng.shuffle(answers)
    labels = "ABCDEFGH"[: len(answers)]
    key[number] = {label: name for label, (name, _) in zip(labels, answers, strict=True)}
    shown = "".join(
        f"**{label}**\n\n~~~~~~\n{reply}\n~~~~~~\n\n"
        for label, (_, reply) in zip(labels, answers, strict=True)
    )
    blocks.append(f"## {number}\n\n**Question**\n\n~~~~~~\n{question}\n~~~~~~\n\n{shown}")
(HERE / "pairs.md").write_text("\n".join(blocks), encoding="utf-8")
(HERE / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
