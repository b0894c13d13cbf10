"""English open questions through the default murmur, with the output task as shipped (E0)
or worded like the Japanese one that names no team (E2); see README.md. Appends one JSON
line per reply.

    python benchmarks/results/en-open-output/open_variants.py E2 1 \
        benchmarks/data/en-open.jsonl benchmarks/results/en-open-output/replies.jsonl
"""

import dataclasses
import json
import re
import sys
import time
from pathlib import Path

import murmurnet.murmur.pipeline as pipeline
from murmurnet import MurmurNet, RunConfig
from murmurnet.murmur.prompts import StageTexts
from murmurnet.question import Language

META = re.compile(
    r"\bteam\b|\bnotes?\b|assistants?\b|\bagents?\b|\bround\b|\bsummary\b|in English",
    re.IGNORECASE,
)
"""A reply that talks about its own making rather than the question."""
TASKS = {
    "E0": None,
    "E2": (
        "Answer the question in {language_name}, briefly and correctly, using the notes above."
        " Write only the answer.\n\nQuestion: {question}"
    ),
}

variant, seed, questions, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
shipped = pipeline.stage_texts


def reworded(language: Language) -> StageTexts:
    texts = shipped(language)
    task = TASKS[variant]
    return dataclasses.replace(texts, output_task=task) if task and language == "en" else texts


pipeline.stage_texts = reworded  # type: ignore[assignment]
rows = [json.loads(line) for line in Path(questions).read_text(encoding="utf-8").splitlines()]
done = (
    Path(out).read_text(encoding="utf-8").count(f'"variant": "{variant}"')
    if Path(out).exists()
    else 0
)
with MurmurNet(RunConfig(seed=seed)) as net, open(out, "a", encoding="utf-8") as sink:
    for row in rows[done:]:
        tick = time.perf_counter()
        text = net.runtime.run(row["question"]).text
        record = {
            "variant": variant,
            "seed": seed,
            "question": row["question"],
            "reply": text,
            "meta": bool(META.search(text)),
            "seconds": round(time.perf_counter() - tick, 2),
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
