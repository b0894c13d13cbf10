"""Each open question of `benchmarks/data/{ja,en}-open.jsonl` answered by one strategy at
its defaults (`plain`: the question alone, greedy; `murmur`: the default murmur, `--seed 1`
as the stored output-task runs); one JSON line per reply, resuming from the output file.

    python benchmarks/results/open-vs-plain/replies.py plain OUT.jsonl
"""

import json
import sys
import time
from pathlib import Path

from murmurnet import MurmurNet, RunConfig

strategy, out = sys.argv[1], Path(sys.argv[2])
questions = [
    json.loads(line)["question"]
    for name in ("ja-open", "en-open")
    for line in Path(f"benchmarks/data/{name}.jsonl").read_text(encoding="utf-8").splitlines()
]
done = (
    sum(json.loads(line)["strategy"] == strategy for line in out.read_text().splitlines())
    if out.exists()
    else 0
)
with MurmurNet(RunConfig(strategy=strategy, seed=1)) as net, out.open("a") as sink:
    for question in questions[done:]:
        tick = time.perf_counter()
        text = net.runtime.run(question).text
        record = {
            "strategy": strategy,
            "question": question,
            "reply": text,
            "seconds": round(time.perf_counter() - tick, 2),
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
