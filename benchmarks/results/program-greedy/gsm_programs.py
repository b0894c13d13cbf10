"""Exploration: several programmer samples per GSM8K dev row (greedy + sampled)."""
import sys, json
from murmurnet import LoadOptions, ModelSpec
from murmurnet.config import default_cache_folder
from murmurnet.models.registry import create_backend
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.stages import with_program_output
from murmurnet.tools.calculator import program_in
from murmurnet.answers import read_answer
from murmurnet.types import GenerationRequest, Message
import yaml, importlib.resources as ir

lo, hi, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")[lo:hi]
instr = yaml.safe_load(ir.files("murmurnet.roles").joinpath("en.yaml").read_text())["programmer"]["instruction"]
texts = stage_texts("en")
backend = create_backend(ModelSpec(bundled="qwen2.5-0.5b"), LoadOptions(cache_folder=default_cache_folder()))
done = 0
try:
    done = sum(1 for _ in open(out))
except FileNotFoundError:
    pass
with open(out, "a") as f:
    for i, row in enumerate(rows):
        if i < done:
            continue
        msgs = [Message(role="user", content=plain_text(row) + "\n\n" + instr)]
        reqs = [GenerationRequest(messages=msgs, max_tokens=512, temperature=0.0)]
        reqs += [GenerationRequest(messages=msgs, max_tokens=512, temperature=0.7, seed=5000 + 10 * (lo + i) + k) for k in range(int(sys.argv[4]))]
        reps = backend.generate(reqs)
        keys = []
        for r in reps:
            text, ran = with_program_output(texts, r.text.strip())
            failed = not ran and program_in(text) is not None
            cut = r.finish_reason == "length" and not ran
            keys.append("" if cut or failed else read_answer("number", text, (), row.question))
        f.write(json.dumps({"row": lo + i, "question": row.question, "answer": row.answer, "keys": keys, "ran": [with_program_output(texts, r.text.strip())[1] for r in reps]}, ensure_ascii=False) + "\n")
        f.flush()
