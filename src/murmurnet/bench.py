"""`murmurnet bench`: how much a batched murmur costs over one answer, on this machine.

The workload is the engine benchmark's: N agents share one long prompt (notes they all
read) and each writes a fixed number of greedy tokens; the same requests are then run one
after another with the prompt prefix cached, the best a non-batching engine can do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from murmurnet.models.base import Backend
from murmurnet.types import GenerationRequest, Message

_FACTS = [
    "The river town of Aomi was founded in {y} by {n} families who arrived by boat.",
    "Its market sells {n} kinds of rice, and the biggest festival draws {y} visitors.",
    "A stone bridge built in {y} has {n} arches and survived three floods.",
    "The library holds {y} books and opens {n} hours a day, including Sundays.",
]


def shared_document(backend: Backend, tokens: int) -> str:
    """Deterministic notes of about `tokens` tokens that every agent reads."""
    lines: list[str] = []
    i = 0
    while backend.count_tokens("\n".join(lines)) < tokens:
        lines.append(_FACTS[i % len(_FACTS)].format(y=1200 + 7 * i, n=3 + i % 9))
        i += 1
    return "\n".join(lines)


def agent_requests(n: int, document: str, new_tokens: int) -> list[GenerationRequest]:
    """N greedy agents with a shared system prompt and a short own task, fixed length."""
    system = f"You are one of several analysts. Read the notes.\n\n{document}"
    return [
        GenerationRequest(
            messages=[
                Message(role="system", content=system),
                Message(role="user", content=f"Analyst {k + 1}: summarise fact {k + 1}."),
            ],
            max_tokens=new_tokens,
            temperature=0.0,
            repeat_penalty=1.0,
            ignore_eos=True,
            repeat_guard=False,
        )
        for k in range(n)
    ]


@dataclass(frozen=True)
class BenchRow:
    agents: int
    batched_seconds: float
    one_by_one_seconds: float
    generated_tokens: int

    @property
    def speedup(self) -> float:
        return self.one_by_one_seconds / self.batched_seconds


def forget_cache(backend: Backend) -> None:
    """Start a measurement cold, where the backend keeps a prompt cache."""
    engine = getattr(backend, "engine", None)
    if engine is not None:
        for seq in engine.cached:
            engine.forget(seq)


def run_bench(
    backend: Backend, agents: list[int], prompt_tokens: int = 300, new_tokens: int = 32
) -> list[BenchRow]:
    document = shared_document(backend, prompt_tokens)
    backend.generate(agent_requests(1, "warm up", 4))
    rows = []
    for n in agents:
        requests = agent_requests(n, document, new_tokens)
        forget_cache(backend)
        tick = time.perf_counter()
        replies = backend.generate(requests)
        batched = time.perf_counter() - tick
        forget_cache(backend)
        tick = time.perf_counter()
        for request in requests:
            backend.generate([request])
        one_by_one = time.perf_counter() - tick
        generated = sum(r.completion_tokens for r in replies)
        rows.append(BenchRow(n, batched, one_by_one, generated))
    return rows
