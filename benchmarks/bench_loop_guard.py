"""What the loop guard costs per token: the same greedy replies with the guard on and off,
streamed (the guard then also holds back what may start a loop), in turns, on the bundled
model. Questions whose replies do not loop, so both settings write the same tokens.

    python benchmarks/bench_loop_guard.py [--repeats 3] [--batch 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from murmurnet.config import ModelSpec, default_cache_folder
from murmurnet.models.llama.backend import create
from murmurnet.models.registry import LoadOptions
from murmurnet.types import GenerationRequest, Message

QUESTIONS = (
    "Explain how a refrigerator keeps food cold.",
    "What should I consider when buying a used car?",
    "日本の四季の特徴を簡単に教えてください。",
    "Pythonのリストとタプルの違いを説明してください。",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1, help="copies of each request at once")
    parser.add_argument("--tokens", type=int, default=256)
    args = parser.parse_args()
    options = LoadOptions(cache_folder=default_cache_folder(), threads=os.cpu_count() or 2)
    backend = create(ModelSpec(bundled="qwen2.5-0.5b"), options)
    rates: dict[bool, list[float]] = {True: [], False: []}
    texts: dict[bool, list[str]] = {True: [], False: []}
    for _ in range(args.repeats):
        for question in QUESTIONS:
            for guard in (True, False):
                request = GenerationRequest(
                    messages=[Message(role="user", content=question)],
                    max_tokens=args.tokens,
                    temperature=0.0,
                    repeat_guard=guard,
                )
                tick = time.perf_counter()
                replies = backend.generate([request] * args.batch, on_token=lambda i, p: None)
                seconds = time.perf_counter() - tick
                rates[guard].append(sum(r.completion_tokens for r in replies) / seconds)
                texts[guard].append(replies[0].text)
    same = sum(a == b for a, b in zip(texts[True], texts[False], strict=True))
    on, off = statistics.mean(rates[True]), statistics.mean(rates[False])
    print(
        f"{len(rates[True])} replies each, batch {args.batch}, {args.tokens} tokens at most; "
        f"same text with and without the guard: {same}"
    )
    print(f"guard on:  {on:.1f} tokens/s (median {statistics.median(rates[True]):.1f})")
    print(f"guard off: {off:.1f} tokens/s (median {statistics.median(rates[False]):.1f})")
    print(f"cost of the guard: {100 * (off - on) / off:+.1f} % of the decoding rate")
    backend.close()


if __name__ == "__main__":
    main()
