"""Two more greedy programs for each GSM8K dev row, each from another programmer
instruction, in one batch (as two more agents of one round would be asked). Greedy decoding
from different instructions gives different programs without sampling's loss (at 0.7 the
bundled model lost about a fifth of its right programs, `../program-greedy/`). Resumes from
the output file.

    python benchmarks/results/program-prompts/programs.py OUT.jsonl FIRST END
"""

import json
import sys
import time
from pathlib import Path

from murmurnet import LoadOptions, ModelSpec
from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.models.registry import create_backend
from murmurnet.types import GenerationRequest, Message

INSTRUCTIONS = {
    "function": (
        "Write a Python function solution() that computes the answer in small steps, a comment"
        " before each step, then print(solution()). Reply with the code in a ```python block"
        " and nothing else."
    ),
    "given-asked": (
        "Before any code, write Python comments that say what is given and what is asked; then"
        " write the code that computes it and prints only the final answer. Reply with the"
        " code in a ```python block and nothing else."
    ),
}

out, first, end = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")
backend = create_backend(
    ModelSpec(bundled="qwen2.5-0.5b"), LoadOptions(cache_folder=default_cache_folder())
)
done = {json.loads(line)["row"] for line in out.read_text().splitlines()} if out.exists() else set()
with out.open("a", encoding="utf-8") as sink:
    for index in (i for i in range(first, end) if i not in done):
        row = rows[index]
        requests = [
            GenerationRequest(
                messages=[Message(role="user", content=f"{plain_text(row)}\n\n{text}")],
                max_tokens=512,
                temperature=0.0,
            )
            for text in INSTRUCTIONS.values()
        ]
        start = time.perf_counter()
        replies = backend.generate(requests)
        seconds = round(time.perf_counter() - start, 2)
        for name, reply in zip(INSTRUCTIONS, replies, strict=True):
            record = {
                "row": index,
                "prompt": name,
                "answer": row.answer,
                "text": reply.text,
                "cut": reply.finish_reason == "length",
                "tokens": reply.completion_tokens,
                "batch_seconds": seconds,
            }
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
