"""Which groups run, on which sequences: the engine's admission policy.

Groups are admitted first come first served while free sequences and KV cells allow (a big
group is never overtaken, so it cannot starve); each job gets the free sequence whose cache
already holds most of its prompt; idle caches are dropped only when a new group would not
fit beside them.
"""

from __future__ import annotations

from collections import deque

from murmurnet.errors import BackendFailedError, CancelledError, ContextOverflowError, InputError
from murmurnet.models.llama.job import Job, JobGroup
from murmurnet.models.llama.kv import KvCache, common_prefix
from murmurnet.models.llama.prefill import cells_needed


def cancelled(group: JobGroup) -> CancelledError:
    return CancelledError(f"the run was cancelled ({group.cancel_reason or 'the model closed'})")


def engine_failure(cause: BaseException) -> BackendFailedError:
    failure = BackendFailedError(f"the llama.cpp engine failed: {cause!r}")
    failure.__cause__ = cause
    return failure


class Scheduler:
    def __init__(self, kv: KvCache, n_seq_max: int, n_ctx: int) -> None:
        self.kv = kv
        self.n_seq_max = n_seq_max
        self.n_ctx = n_ctx
        self.waiting: deque[JobGroup] = deque()
        self.active: list[JobGroup] = []

    def refuse_impossible(self, jobs: list[Job]) -> None:
        """A group that could never fit fails at once instead of waiting forever."""
        if any(not job.prompt for job in jobs):
            raise InputError("a prompt is empty")
        if len(jobs) > self.n_seq_max:
            raise ContextOverflowError(
                f"{len(jobs)} sequences requested but the engine runs at most {self.n_seq_max}"
            )
        needed = max(cells_needed(jobs), max(len(j.prompt) + j.request.max_tokens for j in jobs))
        if needed > self.n_ctx:
            raise ContextOverflowError(
                f"the prompts and replies need {needed} tokens but the context holds {self.n_ctx}",
                hint="shorten the input, lower the token limits or raise --context-size",
            )

    def drain(self, starting: list[JobGroup]) -> list[JobGroup]:
        """Every group not yet finished (to fail them all), leaving the queue empty."""
        groups = list(dict.fromkeys([*starting, *self.active, *self.waiting]))
        starting.clear()
        self.active.clear()
        self.waiting.clear()
        return groups

    def active_jobs(self) -> list[Job]:
        return [job for group in self.active for job in group.jobs if not job.done]

    def admit(self) -> list[JobGroup]:
        """Waiting groups that fit now, in arrival order; cancelled ones leave the queue."""
        admitted: list[JobGroup] = []
        busy = sum(len(g.jobs) for g in self.active)
        reserved = sum(cells_needed(g.jobs) for g in self.active)
        while self.waiting:
            head = self.waiting[0]
            if head.cancel_reason is not None:
                self.waiting.popleft()
                head.fail(cancelled(head))
                continue
            need = cells_needed(head.jobs)
            if busy + len(head.jobs) > self.n_seq_max or (
                reserved + need > self.n_ctx and (self.active or admitted)
            ):
                break
            admitted.append(self.waiting.popleft())
            busy += len(head.jobs)
            reserved += need
        return admitted

    def assign_sequences(self, jobs: list[Job]) -> None:
        """Give each job the free sequence whose cache it can use most; on a tie the emptiest,
        so that an unrelated prompt does not evict a useful cache. A seeded job counts only
        what it may reuse: trimming a cache it cannot use would open holes in the cells
        that keep other seeded caches from being reused."""
        kv = self.kv
        in_use = {job.seq for job in self.active_jobs()}
        free = [seq for seq in range(self.n_seq_max) if seq not in in_use]
        for job in jobs:
            usable = kv.reusable if job.exact else lambda s, p: common_prefix(kv.cached[s], p)
            job.seq = max(free, key=lambda s: (usable(s, job.prompt), -len(kv.cached[s])))
            free.remove(job.seq)

    def make_room(self, group: JobGroup) -> None:
        """Drop idle sequences' caches when the new group would not fit beside them."""
        cached = self.kv.cached
        busy = {job.seq for g in (*self.active, group) for job in g.jobs}
        reserved = sum(cells_needed(g.jobs) for g in (*self.active, group))
        idle = sum(len(cached[s]) for s in cached if s not in busy)
        if reserved + idle > self.n_ctx:
            for seq in cached:
                if seq not in busy:
                    self.kv.forget(seq, 0)
