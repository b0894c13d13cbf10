"""The engine's admission: first come first served, so a big murmur's rounds cannot hold a
small request back without bound, and a big group is never starved by small ones."""

from __future__ import annotations

from typing import Any

from murmurnet.models.llama.job import Job, JobGroup
from murmurnet.models.llama.scheduler import Scheduler
from murmurnet.types import GenerationRequest, Message


def group(size: int, prompt_tokens: int = 10, max_tokens: int = 10, base: int = 0) -> JobGroup:
    request = GenerationRequest(messages=[Message(role="user", content="q")], max_tokens=max_tokens)
    return JobGroup(
        [Job(list(range(base + k, base + k + prompt_tokens)), request, None) for k in range(size)]
    )


def scheduler(n_seq_max: int = 4, n_ctx: int = 10_000) -> Scheduler:
    kv: Any = None  # admission reads only the groups' sizes
    return Scheduler(kv, n_seq_max, n_ctx)


def running(queue: Scheduler, started: JobGroup) -> JobGroup:
    """`started` arrives at an idle queue and is admitted at once."""
    queue.waiting.append(started)
    assert queue.admit() == [started]
    queue.active.append(started)
    return started


def finish(queue: Scheduler, done: JobGroup) -> None:
    queue.active.remove(done)


def test_a_small_request_runs_between_a_murmurs_rounds() -> None:
    queue = scheduler(n_seq_max=4)
    round_one = running(queue, group(4, base=100))
    small = group(1)
    queue.waiting.append(small)
    assert queue.admit() == []  # every sequence is busy with round one
    finish(queue, round_one)
    queue.waiting.append(group(4, base=200))  # the murmur's next round arrives after it
    admitted = queue.admit()
    assert admitted[0] is small  # the small request is not overtaken


def test_a_big_group_is_not_starved_by_a_stream_of_small_ones() -> None:
    queue = scheduler(n_seq_max=4)
    first = running(queue, group(2, base=300))
    big = group(4)
    queue.waiting.extend([big, group(1, base=500)])
    assert queue.admit() == []  # 2 free sequences: the small one waits behind the big one
    finish(queue, first)
    assert queue.admit() == [big]


def test_kv_cells_bound_admission_too() -> None:
    queue = scheduler(n_seq_max=8, n_ctx=100)
    first = running(queue, group(1, prompt_tokens=40, max_tokens=30))
    too_big = group(1, prompt_tokens=20, max_tokens=20, base=50)
    queue.waiting.append(too_big)
    assert queue.admit() == []
    finish(queue, first)
    assert queue.admit() == [too_big]
