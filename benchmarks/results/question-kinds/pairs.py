"""The blind pairs of the re-routed questions' answers (README.md): each question with its
answers before and after in random order as A and B (`pairs.md`), and which is which
(`key.json`), for a judge who sees only `pairs.md`.

    python benchmarks/results/question-kinds/pairs.py
"""

import json
import random
from pathlib import Path

HERE = Path("benchmarks/results/question-kinds")


def load(name: str) -> dict[str, dict]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return {record["question"]: record for record in map(json.loads, lines)}


before, after = load("answers-before.jsonl"), load("answers-after.jsonl")
rng = random.Random(35)
key, blocks = {}, []
for number, question in enumerate(before, start=1):
    answers = [("before", before[question]["reply"]), ("after", after[question]["reply"])]
    rng.shuffle(answers)
    key[number] = {"A": answers[0][0], "B": answers[1][0]}
    blocks.append(
        f"## {number}\n\n**Question**\n\n```\n{question}\n```\n\n"
        f"**A**\n\n```\n{answers[0][1]}\n```\n\n**B**\n\n```\n{answers[1][1]}\n```\n"
    )
(HERE / "pairs.md").write_text("\n".join(blocks), encoding="utf-8")
(HERE / "key.json").write_text(json.dumps(key, indent=1), encoding="utf-8")
