"""Each open question of the given files answered with the defaults, as `murmurnet ask`
answers it, streamed to a sink as the CLI streams it; one JSON line per reply (seconds,
tokens, whether the written reply ran out of tokens, what the stream showed), resuming from
the output file.

    python benchmarks/results/loop-guard/replies.py OUT.jsonl QUESTIONS.jsonl...
"""

import json
import sys
from pathlib import Path

from murmurnet import MurmurNet, RunConfig

out, files = Path(sys.argv[1]), sys.argv[2:]
questions = [
    json.loads(line)["question"]
    for file in files
    for line in Path(file).read_text(encoding="utf-8").splitlines()
]
stored = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
done = {json.loads(line)["question"] for line in stored}
with MurmurNet(RunConfig()) as net, out.open("a", encoding="utf-8") as sink:
    for question in questions:
        if question in done:
            continue
        shown: list[str] = []
        answer = net.runtime.run(question, on_token=shown.append)
        record = {
            "question": question,
            "reply": answer.text,
            "streamed": "".join(shown),
            "seconds": round(answer.total_seconds, 2),
            "completion_tokens": answer.completion_tokens,
            "finish_reason": answer.finish_reason,
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
