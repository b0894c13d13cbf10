"""A 4-agent round of the real pipeline against a bare low-level batched loop, same shape.

The round is one `Runtime.run` on the bundled Qwen (4 agents, one round, a ~520-token
question); its own seconds are what `murmurnet ask --json` reports as
`stage_seconds["round 1"]`. The bare loop then decodes exactly those four prompts with
nothing but llama.cpp calls — the shared prefix once for all sequences, each agent's
suffix in one batch, then one `llama_decode` per step with one token per sequence, greedy —
generating as many tokens per agent as the round did. Each repetition uses a new question,
so both start cold. Target: round ≤ 1.10 × bare loop.

    python benchmarks/bench_round.py [--repeats 3] [--agents 4] [--new-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

import llama_cpp

from murmurnet import Completion, GenerationRequest, RunConfig, Runtime
from murmurnet.bench import shared_document
from murmurnet.cancellation import Cancellation
from murmurnet.config import ModelSpec, default_cache_folder
from murmurnet.models.base import TokenCallback
from murmurnet.models.llama.backend import LlamaCppBackend, create
from murmurnet.models.registry import LoadOptions

THREADS = os.cpu_count() or 2
N_BATCH = 512


class Recording:
    """The real backend, remembering the round's requests and replies."""

    def __init__(self, inner: LlamaCppBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.can_batch = True
        self.context_size = inner.context_size
        self.calls: list[tuple[list[GenerationRequest], list[Completion]]] = []

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        replies = self.inner.generate(requests, on_token, cancel)
        self.calls.append((list(requests), replies))
        return replies

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def close(self) -> None:
        self.inner.close()


def bare_loop(model: Any, prompts: list[list[int]], counts: list[int]) -> float:
    """Seconds for the shape alone: shared prefix once, suffixes, one decode per step."""
    n = len(prompts)
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = 8192
    params.n_batch = params.n_ubatch = N_BATCH
    params.n_seq_max = n
    params.kv_unified = True
    params.n_threads = params.n_threads_batch = THREADS
    ctx = llama_cpp.llama_init_from_model(model, params)
    batch = llama_cpp.llama_batch_init(N_BATCH, 0, n)
    sampler = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(sampler, llama_cpp.llama_sampler_init_greedy())
    shared = min(len(p) for p in prompts) - 1
    for p in prompts[1:]:
        shared = min(
            shared,
            next(
                (i for i, (a, b) in enumerate(zip(prompts[0], p, strict=False)) if a != b), shared
            ),
        )

    def decode(entries: list[tuple[int, int, list[int], bool]]) -> None:
        for start in range(0, len(entries), N_BATCH):
            chunk = entries[start : start + N_BATCH]
            for i, (token, pos, seqs, logits) in enumerate(chunk):
                batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos, len(seqs)
                for k, seq in enumerate(seqs):
                    batch.seq_id[i][k] = seq
                batch.logits[i] = logits
            batch.n_tokens = len(chunk)
            assert llama_cpp.llama_decode(ctx, batch) == 0

    tick = time.perf_counter()
    decode([(t, i, list(range(n)), False) for i, t in enumerate(prompts[0][:shared])])
    suffixes = [
        (t, shared + i, [seq], i == len(p) - shared - 1)
        for seq, p in enumerate(prompts)
        for i, t in enumerate(p[shared:])
    ]
    decode(suffixes)
    last = {seq: idx for idx, (_, _, (seq,), logits) in enumerate(suffixes) if logits}
    index_in_batch = {seq: last[seq] % N_BATCH for seq in range(n)}
    position = [len(p) for p in prompts]
    made = [0] * n
    while any(made[s] < counts[s] for s in range(n)):
        active = [s for s in range(n) if made[s] < counts[s]]
        step = []
        for s in active:
            token = llama_cpp.llama_sampler_sample(sampler, ctx, index_in_batch[s])
            step.append((token, position[s], [s], True))
            position[s] += 1
            made[s] += 1
        decode(step)
        index_in_batch = {s: i for i, s in enumerate(active)}
    seconds = time.perf_counter() - tick
    llama_cpp.llama_sampler_free(sampler)
    llama_cpp.llama_batch_free(batch)
    llama_cpp.llama_free(ctx)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--question-tokens", type=int, default=520)
    parser.add_argument("--seed", type=int, default=None, help="seeded sampling (default: off)")
    args = parser.parse_args()
    options = LoadOptions(cache_folder=default_cache_folder(), threads=THREADS)
    backend = Recording(create(ModelSpec(bundled="qwen2.5-0.5b"), options))
    model = backend.inner.engine.model
    config = RunConfig(
        agents=args.agents,
        iterations=1,
        internal_tokens=args.new_tokens,
        output_tokens=1,
        summary=False,
        seed=args.seed,
        threads=THREADS,
    )
    document = shared_document(backend, args.question_tokens - 20)
    print(
        f"model {backend.name}, {THREADS} threads, {args.agents} agents × ≤{args.new_tokens} tokens"
    )
    print("rep | question tok | shared tok | prompt tok/agent | gen tok | round s | bare s | ratio")
    ratios = []
    with Runtime(config, backends={"default": backend}) as runtime:
        for rep in range(args.repeats):
            question = f"Case {rep + 1}. {document}\nWhich fact mentions the most arches, and why?"
            backend.calls.clear()
            answer = runtime.run(question)
            requests, replies = backend.calls[0]
            round_seconds = answer.stage_seconds["round 1"]
            prompts = [backend.inner.tokens(r) for r in requests]
            counts = [max(1, r.completion_tokens) for r in replies]
            bare = bare_loop(model, prompts, counts)
            shared = min(
                next(
                    (i for i, (a, b) in enumerate(zip(prompts[0], p, strict=False)) if a != b),
                    len(p),
                )
                for p in prompts[1:]
            )
            ratio = round_seconds / bare
            ratios.append(ratio)
            print(
                f"{rep + 1:3d} | {backend.count_tokens(question):12d} | {shared:10d} | "
                f"{statistics.mean(len(p) for p in prompts):16.0f} | {sum(counts):7d} | "
                f"{round_seconds:7.2f} | {bare:6.2f} | {ratio:5.2f}"
            )
    print(f"median ratio round / bare loop: {statistics.median(ratios):.2f} (target ≤ 1.10)")


if __name__ == "__main__":
    main()
