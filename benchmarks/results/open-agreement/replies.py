"""Each open question of the given files answered by one strategy; one JSON line per reply,
resuming from the output file. `plain`: the question alone, greedy; `agreement` or `pivot`:
the murmur with that `open_answer`, `--seed 1`; otherwise defaults.

    python benchmarks/results/open-agreement/replies.py agreement OUT.jsonl QUESTIONS.jsonl
"""

import json
import sys
import time
from pathlib import Path

from murmurnet import MurmurNet, RunConfig

name, out, files = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
questions = [
    json.loads(line)["question"]
    for file in files
    for line in Path(file).read_text(encoding="utf-8").splitlines()
]
stored = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
done = {json.loads(line)["question"] for line in stored if json.loads(line)["strategy"] == name}
config = (
    RunConfig(strategy="plain", seed=1)
    if name == "plain"
    else RunConfig(strategy="murmur", open_answer=name, seed=1)
)
with MurmurNet(config) as net, out.open("a", encoding="utf-8") as sink:
    for question in questions:
        if question in done:
            continue
        tick = time.perf_counter()
        text = net.runtime.run(question).text
        record = {
            "strategy": name,
            "question": question,
            "reply": text,
            "seconds": round(time.perf_counter() - tick, 2),
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
