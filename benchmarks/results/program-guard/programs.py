"""The greedy programmer's program for each GSM8K dev row, written with the repeat guard
off, so that what the guard would have cut can be replayed from the text (`replay.py`).

The programmer's exact prompt on the short-answer path (the question as `plain` gets it,
then the programmer's instruction). Resumes from the output file.

    python benchmarks/results/program-guard/programs.py OUT.jsonl FIRST END
"""

import json
import sys
import time
from importlib.resources import files
from pathlib import Path

import yaml

from murmurnet import LoadOptions, ModelSpec
from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.models.registry import create_backend
from murmurnet.types import GenerationRequest, Message

out, first, end = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")
roles = yaml.safe_load(files("murmurnet.roles").joinpath("en.yaml").read_text(encoding="utf-8"))
instruction = roles["programmer"]["instruction"]
backend = create_backend(
    ModelSpec(bundled="qwen2.5-0.5b"), LoadOptions(cache_folder=default_cache_folder())
)
done = {json.loads(line)["row"] for line in out.read_text().splitlines()} if out.exists() else set()
with out.open("a", encoding="utf-8") as sink:
    for index in (i for i in range(first, end) if i not in done):
        row = rows[index]
        ask = [Message(role="user", content=f"{plain_text(row)}\n\n{instruction}")]
        request = GenerationRequest(
            messages=ask, max_tokens=512, temperature=0.0, repeat_guard=False
        )
        start = time.perf_counter()
        (reply,) = backend.generate([request])
        record = {
            "row": index,
            "answer": row.answer,
            "text": reply.text,
            "cut": reply.finish_reason == "length",
            "tokens": reply.completion_tokens,
            "seconds": round(time.perf_counter() - start, 2),
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
