"""Japanese calculation rows translated into English by the bundled model (greedy), then the
shipped English short-answer batch on its translation: the plain answer (the translation
alone, greedy), the solver (sampled), the programmer's three (greedy); instructions read from
the shipped role files. Records as `english_working.py` writes them (the plain answer under
"anchor"), with the translation. Resumes from the output file.

    python benchmarks/results/eval-gsm8k-ja/translated.py ROWS.jsonl OUT.jsonl
"""

import json
import sys
import time
from pathlib import Path

from murmurnet import LoadOptions, ModelSpec
from murmurnet.config import RunConfig, default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import question_for
from murmurnet.models.registry import create_backend
from murmurnet.roles.assignment import builtin_roles
from murmurnet.types import GenerationRequest, Message

TRANSLATE = "Translate into English:"

rows_path, out = Path(sys.argv[1]), Path(sys.argv[2])
config = RunConfig()
roles = builtin_roles("en")
asked = {
    "anchor": ("", 0.0),
    "solver": (roles["solver"].instruction, config.internal_temp),
    "program": (roles["programmer"].instruction, 0.0),
    **{
        f"program {n}": (text, 0.0)
        for n, text in enumerate(roles["programmer"].more_instructions, 2)
    },
}
backend = create_backend(
    ModelSpec(bundled="qwen2.5-0.5b"), LoadOptions(cache_folder=default_cache_folder())
)
done = {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
with out.open("a", encoding="utf-8") as sink:
    for row in (r for r in load_rows(rows_path) if r.id not in done):
        start = time.perf_counter()
        translate = GenerationRequest(
            messages=[
                Message(role="user", content=f"{TRANSLATE}\n\n{question_for(row, 'murmur')}")
            ],
            max_tokens=config.answer_tokens,
            temperature=0.0,
        )
        english = backend.generate([translate])[0].text.strip()
        translate_seconds = round(time.perf_counter() - start, 2)
        requests = [
            GenerationRequest(
                messages=[
                    Message(
                        role="user",
                        content=f"{english}\n\n{instruction}" if instruction else english,
                    )
                ],
                max_tokens=config.answer_tokens,
                temperature=temperature,
                seed=1001 + number,
            )
            for number, (instruction, temperature) in enumerate(asked.values())
        ]
        replies = backend.generate(requests)
        record = {
            "id": row.id,
            "answer": row.answer,
            "english": english,
            "translate_seconds": translate_seconds,
            "batch_seconds": round(time.perf_counter() - start, 2),
            "replies": {
                name: {"text": reply.text, "cut": reply.finish_reason == "length"}
                for name, reply in zip(asked, replies, strict=True)
            },
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
