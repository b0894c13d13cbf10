"""Three wordings that ask the agents' model to cut a long span answer, one row at a time.

For every JSQuAD dev row in [lo, hi) whose murmur answer in a stored run is longer than 8
characters (spaces and punctuation removed), greedy: v1 a follow-up turn after the reply,
v2 the plain prompt with the answer as the passage, v3 the question, the answer and a
request for the phrase of it that answers. Resumes from the output file.

    python benchmarks/results/span-snap/span_snap.py 0 150 OUT.jsonl SLICES_DIR \
        benchmarks/results/eval-spans-3/results.jsonl

SLICES_DIR holds the 40-row JSQuAD slices of `benchmarks/dev900_slices.sh`.
"""

import json
import re
import sys
from pathlib import Path

from murmurnet import LoadOptions, ModelSpec
from murmurnet.answers import read_answer
from murmurnet.answers import strip_spaces_and_punctuation as norm
from murmurnet.config import default_cache_folder
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.models.registry import create_backend
from murmurnet.types import GenerationRequest, Message

REQUEST = "文章を読んで、質問に文章中の短い語句だけで答えてください。"
V3 = "この答えの中で、質問に答えている短い語句だけを書いてください。"

lo, hi, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
slices, stored_file = Path(sys.argv[4]), Path(sys.argv[5])
rows = {}
for path in sorted(slices.glob("jsquad*")):
    first = int(re.search(r"rows(\d+)to", path.name).group(1))  # type: ignore[union-attr]
    for offset, row in enumerate(load_rows(path)):
        rows[row.id] = (first - 1 + offset, row)
stored = {}
for line in stored_file.read_text(encoding="utf-8").splitlines():
    record = json.loads(line)
    if record["strategy"] == "murmur":
        stored[record["id"]] = record
todo = sorted(
    (index, row, stored[key])
    for key, (index, row) in rows.items()
    if key in stored and lo <= index < hi
)
todo = [item for item in todo if len(norm(item[2]["extracted"] or "")) > 8]
options = LoadOptions(cache_folder=default_cache_folder())
backend = create_backend(ModelSpec(bundled="qwen2.5-0.5b"), options)
lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
done = {json.loads(line)["row"] for line in lines}
with out.open("a", encoding="utf-8") as sink:
    for index, row, record in todo:
        if index in done:
            continue
        reply = record["reply"].strip()
        answer = reply.splitlines()[0]
        question = row.question.strip()
        v1 = [
            Message(role="user", content=plain_text(row)),
            Message(role="assistant", content=reply),
            Message(role="user", content="答えを、文章中の短い語句だけでもう一度書いてください。"),
        ]
        v2 = [Message(role="user", content=f"{REQUEST}\n文章: {answer}\n質問: {question}\n答え:")]
        v3 = [Message(role="user", content=f"質問: {question}\n答え: {answer}\n\n{V3}")]
        requests = [
            GenerationRequest(messages=m, max_tokens=48, temperature=0.0) for m in (v1, v2, v3)
        ]
        outs = [completion.text for completion in backend.generate(requests)]
        keys = [read_answer("span", text, (), row.question) for text in outs]
        result = {
            "row": index,
            "answer": row.answer,
            "aliases": row.aliases,
            "long": record["extracted"],
            "correct": record["correct"],
            "outs": outs,
            "keys": keys,
        }
        sink.write(json.dumps(result, ensure_ascii=False) + "\n")
        sink.flush()
