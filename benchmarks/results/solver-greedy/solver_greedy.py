"""The solver's ballot written greedy for the decisive GSM8K dev rows (`rows.txt`), with
the solver's exact prompt on the short-answer path (the question as `plain` gets it, then
the solver's instruction), read as `read_ballot` reads it; then the plan's replay. Resumes
from the output file.

    python benchmarks/results/solver-greedy/solver_greedy.py \
        benchmarks/results/solver-greedy/rows.txt benchmarks/results/solver-greedy/solvers.jsonl
"""

import json
import sys
from importlib.resources import files
from pathlib import Path

import yaml
from decisive import ballots, vote

from murmurnet import LoadOptions, ModelSpec
from murmurnet.answers import read_answer
from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.evaluation.stats import mcnemar_exact
from murmurnet.models.registry import create_backend
from murmurnet.types import GenerationRequest, Message

wanted = [int(line) for line in Path(sys.argv[1]).read_text().split()]
out = Path(sys.argv[2])
rows = load_rows("../shared/eval/gsm8k-dev300.jsonl")
roles = yaml.safe_load(files("murmurnet.roles").joinpath("en.yaml").read_text(encoding="utf-8"))
instruction = roles["solver"]["instruction"]
done = {json.loads(line)["row"] for line in out.read_text().splitlines()} if out.exists() else set()
if len(done) < len(wanted):
    backend = create_backend(
        ModelSpec(bundled="qwen2.5-0.5b"), LoadOptions(cache_folder=default_cache_folder())
    )
    with out.open("a", encoding="utf-8") as sink:
        for index in (i for i in wanted if i not in done):
            row = rows[index]
            ask = [Message(role="user", content=f"{plain_text(row)}\n\n{instruction}")]
            request = GenerationRequest(messages=ask, max_tokens=512, temperature=0.0)
            (reply,) = backend.generate([request])
            cut = reply.finish_reason == "length"
            key = "" if cut else read_answer("number", reply.text.strip(), (), row.question)
            record = {"row": index, "answer": row.answer, "key": key, "text": reply.text}
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()

greedy = {r["row"]: r["key"] for r in map(json.loads, out.read_text().splitlines())}
shipped, candidate, solver_right = [], [], [0, 0]
for index, gold, plain, sampled, program in ballots():
    solver = greedy.get(index, sampled)  # elsewhere the solver cannot change the score
    shipped.append(vote([(plain, 1), (sampled, 1), (program, 2)]) == gold)
    candidate.append(vote([(plain, 1), (solver, 1), (program, 2)]) == gold)
    if index in greedy:
        solver_right[0] += sampled == gold
        solver_right[1] += solver == gold
better = sum(c and not s for c, s in zip(candidate, shipped, strict=True))
worse = sum(s and not c for c, s in zip(candidate, shipped, strict=True))
print(
    f"decisive rows: {len(greedy)}; solver right there: sampled {solver_right[0]}, greedy "
    f"{solver_right[1]}"
)
print(f"vote, sampled solver (shipped): {sum(shipped)} / {len(shipped)}")
print(f"vote, greedy solver: {sum(candidate)} / {len(candidate)}")
p = mcnemar_exact(better, worse)
print(f"greedy against sampled: {better} better / {worse} worse, p = {p:.3f}")
