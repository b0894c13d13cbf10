"""Japanese open questions through the default murmur, with the output task as shipped (O0)
or reworded (O2); see README.md. Appends one JSON line per reply.

    python benchmarks/results/ja-open-output/open_variants.py O2 1 \
        benchmarks/data/ja-open.jsonl benchmarks/results/ja-open-output/replies.jsonl
"""

import dataclasses
import json
import re
import sys
import time
from pathlib import Path

import murmurnet.murmur.pipeline as pipeline
from murmurnet import MurmurNet, RunConfig
from murmurnet.models.llama.tokens import foreign_ideograph
from murmurnet.murmur.prompts import StageTexts
from murmurnet.question import Language

META = re.compile(
    r"チーム|メモ|アシスタント|この(回答|答え)|日本語で(答|書|回答|正確)|記載しました|ラウンド|要約"
)
"""A reply that talks about its own making rather than the question."""
TASKS = {
    "O0": None,
    "O2": (
        "上のメモを参考に、質問に{language_name}で簡潔かつ正確に答えてください。"
        "答えだけを書いてください。\n\n質問：{question}"
    ),
}

variant, seed, questions, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
shipped = pipeline.stage_texts


def reworded(language: Language) -> StageTexts:
    texts = shipped(language)
    task = TASKS[variant]
    return dataclasses.replace(texts, output_task=task) if task and language == "ja" else texts


pipeline.stage_texts = reworded  # type: ignore[assignment]
rows = [json.loads(line) for line in Path(questions).read_text(encoding="utf-8").splitlines()]
with MurmurNet(RunConfig(seed=seed)) as net, open(out, "a", encoding="utf-8") as sink:
    for row in rows:
        tick = time.perf_counter()
        text = net.runtime.run(row["question"]).text
        record = {
            "variant": variant,
            "seed": seed,
            "question": row["question"],
            "reply": text,
            "meta": bool(META.search(text)),
            "foreign": foreign_ideograph(text),
            "seconds": round(time.perf_counter() - tick, 2),
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
