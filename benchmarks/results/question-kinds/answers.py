"""The default murmur's answer to each question of a file, with the kind it was read as;
one JSON line per question, resuming from the output file. Run from two checkouts (before
and after a routing change) to see what the change does to the answers.

    python benchmarks/results/question-kinds/answers.py OUT.jsonl QUESTIONS.jsonl
"""

import json
import sys
from pathlib import Path

from murmurnet import MurmurNet, RunConfig

out, questions = Path(sys.argv[1]), Path(sys.argv[2])
rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines()]
stored = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
done = {json.loads(line)["question"] for line in stored}
with MurmurNet(RunConfig()) as net, out.open("a", encoding="utf-8") as sink:
    for row in rows:
        if row["question"] in done:
            continue
        answer = net.runtime.run(row["question"])
        record = {
            "question": row["question"],
            "kind": answer.question_type,
            "reply": answer.text,
            "seconds": round(answer.total_seconds, 2),
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
