"""More programmer ballots per GSM8K dev row: one greedy, then `samples` sampled at 0.7.

The programmer's exact prompt on the short-answer path: the question as `plain` gets it,
then the programmer's instruction. Resumes from the output file.

    python benchmarks/results/program-greedy/gsm_programs.py 0 300 \
        benchmarks/results/program-greedy/gsm_prog2.jsonl 1
"""

import json
import sys
from importlib.resources import files
from pathlib import Path

import yaml

from murmurnet import LoadOptions, ModelSpec
from murmurnet.answers import read_answer
from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.models.registry import create_backend
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.stages import with_program_output
from murmurnet.tools.calculator import program_in
from murmurnet.types import GenerationRequest, Message

lo, hi, out, samples = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")[lo:hi]
roles = yaml.safe_load(files("murmurnet.roles").joinpath("en.yaml").read_text(encoding="utf-8"))
instruction = roles["programmer"]["instruction"]
texts = stage_texts("en")
options = LoadOptions(cache_folder=default_cache_folder())
backend = create_backend(ModelSpec(bundled="qwen2.5-0.5b"), options)
done = len(out.read_text(encoding="utf-8").splitlines()) if out.exists() else 0
with out.open("a", encoding="utf-8") as sink:
    for i, row in enumerate(rows[done:], start=done):
        messages = [Message(role="user", content=f"{plain_text(row)}\n\n{instruction}")]
        requests = [GenerationRequest(messages=messages, max_tokens=512, temperature=0.0)]
        requests += [
            GenerationRequest(
                messages=messages, max_tokens=512, temperature=0.7, seed=5000 + 10 * (lo + i) + k
            )
            for k in range(samples)
        ]
        keys, ran = [], []
        for reply in backend.generate(requests):
            text, worked = with_program_output(texts, reply.text.strip())
            failed = not worked and program_in(text) is not None
            cut = reply.finish_reason == "length" and not worked
            keys.append("" if cut or failed else read_answer("number", text, (), row.question))
            ran.append(worked)
        record = {"row": lo + i, "question": row.question, "answer": row.answer}
        sink.write(json.dumps({**record, "keys": keys, "ran": ran}, ensure_ascii=False) + "\n")
        sink.flush()
