"""The short-answer path's ballots with English working, for Japanese calculation rows:
the question as `murmurnet eval` gives the murmur, then the English roles' instructions
(the solver sampled, the programmer's three greedy) and an anchor asked to answer in
English (greedy), in one batch, as one round would ask them. The instructions are read from
the shipped role files. Resumes from the output file.

    python benchmarks/results/eval-gsm8k-ja/english_working.py ROWS.jsonl OUT.jsonl
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
from murmurnet.murmur.prompts import stage_texts
from murmurnet.roles.assignment import builtin_roles
from murmurnet.types import GenerationRequest, Message

rows_path, out = Path(sys.argv[1]), Path(sys.argv[2])
config = RunConfig()
roles = builtin_roles("en")
asked = {
    "anchor": (stage_texts("ja").recall_in_english, 0.0),
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
        asked_text = question_for(row, "murmur")
        requests = [
            GenerationRequest(
                messages=[Message(role="user", content=f"{asked_text}\n\n{instruction}")],
                max_tokens=config.answer_tokens,
                temperature=temperature,
                seed=1001 + number,
            )
            for number, (instruction, temperature) in enumerate(asked.values())
        ]
        start = time.perf_counter()
        replies = backend.generate(requests)
        seconds = round(time.perf_counter() - start, 2)
        record = {
            "id": row.id,
            "answer": row.answer,
            "batch_seconds": seconds,
            "replies": {
                name: {"text": reply.text, "cut": reply.finish_reason == "length"}
                for name, reply in zip(asked, replies, strict=True)
            },
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
