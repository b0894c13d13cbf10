"""`replies.md` from `replies.jsonl`: each question's E0 and E2 replies side by side.

cd benchmarks/results/en-open-output && python replies_md.py replies.jsonl > replies.md
"""

import json
import sys
from pathlib import Path

records = [json.loads(line) for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()]
by_question: dict[str, dict[str, dict]] = {}
for record in records:
    by_question.setdefault(record["question"], {})[record["variant"]] = record
out = [
    "# Replies of the default murmur to the 20 English open questions, seed 1",
    "",
    "E0: the output task as shipped before; E2: the candidate (README.md). `meta`: the reply",
    "matches the script's `META` expression.",
    "",
]
for number, (question, replies) in enumerate(by_question.items(), 1):
    out.append(f"## {number}. {question}\n")
    for variant, r in sorted(replies.items()):
        quoted = "\n".join(f"> {line}" if line else ">" for line in r["reply"].splitlines())
        meta = "yes" if r["meta"] else "no"
        out.append(f"**{variant}** (meta: {meta}, {r['seconds']} s)\n\n{quoted}\n")
print("\n".join(out))
