"""Benchmark the default `murmurnet ask`: 2 agents, 1 round, summary, output agent.

Prints seconds per stage, tokens/s and peak RSS for a Japanese and an English question
with the seed's default token limits. Targets (2-core CPU): < 25 s end to end, < 1.2 GB RSS.

    python benchmarks/bench_ask.py [--repeats N] [--model qwen2.5-0.5b]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

from murmurnet import MurmurNet, RunConfig

QUESTIONS = [
    "日本の首都はどこですか？その都市の特徴を一つ教えてください。",
    "Why is the sky blue? Explain briefly.",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--model", default="qwen2.5-0.5b")
    parser.add_argument("--no-parallel", action="store_true")
    args = parser.parse_args()
    config = RunConfig(internal_model=args.model, parallel=not args.no_parallel, seed=1)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}"
    )
    print(
        f"settings: agents={config.agents} iterations={config.iterations} "
        f"summary={config.summary} parallel={config.parallel} tokens="
        f"{config.internal_tokens}/{config.summary_tokens}/{config.output_tokens}"
    )
    with MurmurNet(config) as net:
        tick = time.perf_counter()
        net.runtime.pool.get(args.model)
        print(f"model load: {time.perf_counter() - tick:.2f} s, RSS {peak_rss_mb():.0f} MB")
        totals = []
        for repeat in range(args.repeats):
            for question in QUESTIONS:
                net.conversation.reset()
                answer = net.ask(question)
                totals.append(answer.total_seconds)
                stages = "  ".join(f"{k} {v:.2f}s" for k, v in answer.stage_seconds.items())
                generated = answer.completion_tokens
                print(
                    f"[{repeat + 1}] {answer.language} total {answer.total_seconds:6.2f} s | "
                    f"{stages} | generated {generated} tok, prompt {answer.prompt_tokens} tok | "
                    f"{generated / answer.total_seconds:.1f} tok/s overall"
                )
                for t in answer.timings:
                    print(
                        f"      {t.stage:<10} agent={t.agent or '-'} prompt={t.prompt_tokens:>4} "
                        f"cached={t.cached_tokens:>4} gen={t.completion_tokens:>4} "
                        f"{t.seconds:6.2f} s {t.tokens_per_second:6.1f} tok/s"
                    )
        print(
            f"end to end: mean {sum(totals) / len(totals):.2f} s, max {max(totals):.2f} s "
            f"(target < 25 s); peak RSS {peak_rss_mb():.0f} MB (target < 1200 MB)"
        )


if __name__ == "__main__":
    main()
