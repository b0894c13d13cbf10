"""Decoding a group's prompts: only what the caches lack, the shared prefix once.

Two ways. The fast one serves greedy and unseeded requests: the shared prefix is decoded once
and copied to the other sequences, then every job's own tail goes in n_batch chunks together.
The exact one serves a group with a seeded request (see `kv` for why): the same sharing and
reuse, but in canonical chunks, each job alone, all frees before any decode, and a cached
prefix kept only where its cells are in order. Either checks `interrupt` before each
decode, so a cancelled group or a closing engine stops within one chunk. A lone request
that is neither (`Joining`) decodes no prompt of its own: its tokens fill the room left in
the generation steps' batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from murmurnet.models.llama.job import Job, JobGroup
from murmurnet.models.llama.kv import (
    CHUNK,
    KvCache,
    canonical_chunks,
    common_prefix,
    last_chunk_start,
)

Sampler = Callable[[Job, int], None]
"""Samples a job's next token from the logits of one batch row."""
LogProb = Callable[[int, int], float]
"""The log-probability of a token under the logits of one batch row."""


def shared_length(jobs: Sequence[Job]) -> int:
    """Tokens every job's prompt starts with, short of the first one a job must decode itself."""
    if len(jobs) < 2:
        return 0
    shared = min(j.own_from for j in jobs)
    for job in jobs[1:]:
        shared = min(shared, common_prefix(jobs[0].prompt, job.prompt))
    return max(shared, 0)


def cells_needed(jobs: Sequence[Job]) -> int:
    shared = shared_length(jobs)
    return shared + sum(len(j.prompt) - shared + j.request.max_tokens for j in jobs)


class Prefill:
    def __init__(
        self,
        kv: KvCache,
        n_batch: int,
        sample: Sampler,
        logprob: LogProb,
        interrupt: Callable[[], None],
    ):
        self.kv = kv
        self.n_batch = n_batch
        self.sample = sample
        self.logprob = logprob
        self.interrupt = interrupt

    def run(self, jobs: list[Job]) -> None:
        if any(job.exact for job in jobs):
            self._exact(jobs)
        else:
            self._fast(jobs)

    # -- greedy and unseeded: as little decoding as possible ---------------------------------

    def _fast(self, jobs: list[Job]) -> None:
        kv = self.kv
        # what each sequence held before this call: only that counts as reused
        earlier = {job.seq: len(kv.cached[job.seq]) for job in jobs}
        shared = shared_length(jobs)
        if shared > 0:
            prefix = jobs[0].prompt[:shared]
            base = max(jobs, key=lambda j: common_prefix(kv.cached[j.seq], prefix))
            keep = common_prefix(kv.cached[base.seq], prefix)
            if keep < shared:
                kv.forget(base.seq, keep)
                earlier[base.seq] = min(earlier[base.seq], keep)
                self._decode_together([(base, keep, shared)], want_logits=False)
            for job in jobs:
                if job is not base and common_prefix(kv.cached[job.seq], job.prompt) < shared:
                    kv.forget(job.seq, 0)
                    kv.copy(base.seq, job.seq, shared)
                    earlier[job.seq] = min(earlier[base.seq], shared)
        self._decode_together(
            [(job, self.keep(job, earlier[job.seq]), len(job.prompt)) for job in jobs]
        )

    def keep(self, job: Job, earlier: int) -> int:
        """Frees what the job's cache cannot reuse; the first position it must decode."""
        kv = self.kv
        keep = min(common_prefix(kv.cached[job.seq], job.prompt), job.own_from)
        kv.forget(job.seq, keep)
        job.reused = min(keep, earlier)
        kv.stats.prompt_tokens_reused += job.reused
        return keep

    def _decode_together(
        self, pending: list[tuple[Job, int, int]], want_logits: bool = True
    ) -> None:
        """Each job's prompt[start:end], in chunks of n_batch. A job's first token
        is sampled as soon as the chunk holding its last prompt token is decoded (later chunks
        overwrite logits); a scoring job's continuation tokens are scored chunk by chunk."""
        entries = [(job, p) for job, start, end in pending for p in range(start, end)]
        for start in range(0, len(entries), self.n_batch):
            self.interrupt()
            chunk = entries[start : start + self.n_batch]
            outputs: list[tuple[Job, int, int]] = []
            for index, (job, position) in enumerate(chunk):
                logits = want_logits and job.wants_logits(position)
                self.kv.put(index, job.prompt[position], job.seq, logits)
                if logits:
                    outputs.append((job, index, position))
            self.kv.decode(len(chunk))
            self.kv.stats.prompt_tokens_decoded += len(chunk)
            for job, index, position in outputs:
                if position == len(job.prompt) - 1:
                    self.sample(job, index)
                else:
                    job.scored.append(self.logprob(index, job.prompt[position + 1]))

    # -- a group with a seeded request: the same arithmetic every time ---------------------------

    def _exact(self, jobs: list[Job]) -> None:
        """Like the fast way (own caches kept, the shared prefix decoded once and copied), but
        in canonical chunks, with every free before the first decode, and a kept prefix only
        where its cells are in order with no free cell below them."""
        kv = self.kv
        shared = min(shared_length(jobs), *(last_chunk_start(len(j.prompt)) for j in jobs))
        shared -= shared % CHUNK
        keep = {job.seq: kv.reusable(job.seq, job.prompt) for job in jobs}
        while True:
            base = max(jobs, key=lambda j: min(keep[j.seq], shared))
            copies = [j for j in jobs if j is not base and keep[j.seq] < shared]
            for job in copies:
                keep[job.seq] = 0
            for job in jobs:
                kv.forget(job.seq, keep[job.seq])
            unsafe = [j for j in jobs if not kv.orderly(j.seq, keep[j.seq])]
            if not unsafe:
                break
            for job in unsafe:  # its free can open a hole below another: plan again
                keep[job.seq] = 0
        earlier = min(keep[base.seq], shared)
        if copies:
            self._decode_alone(base, earlier, shared)
            for job in copies:
                kv.copy(base.seq, job.seq, shared)
        for job in jobs:
            start = shared if job in copies else keep[job.seq]
            if job is base and copies:
                start = max(start, shared)
            job.reused = earlier if job in copies else keep[job.seq]
            kv.stats.prompt_tokens_reused += job.reused
            self._decode_alone(job, start, len(job.prompt))

    def _decode_alone(self, job: Job, start: int, end: int) -> None:
        """One job's prompt[start:end] in canonical chunks, each its own decode."""
        kv = self.kv
        final = end == len(job.prompt)
        if start >= end:
            return
        rows = 0
        for first, last in canonical_chunks(start, end, final):
            self.interrupt()
            for index, position in enumerate(range(first, last)):
                kv.put(index, job.prompt[position], job.seq, final and position == end - 1)
            rows = last - first
            if rows == 1:
                kv.put_spare(1, job.seq)
            kv.decode(max(rows, 2))
            if rows == 1:
                kv.drop_spare(job.seq)
            kv.stats.prompt_tokens_decoded += rows
            kv.mark_canonical(job.seq, first, last)
        if final:
            self.sample(job, rows - 1)


class Joining:
    """Lone greedy or unseeded requests whose prompts ride in the running steps' batches
    (as llama-server's continuous batching does): a request that arrives while others
    generate costs no decode of its own, and a long prompt goes in pieces between their
    tokens instead of stopping them."""

    def __init__(self, kv: KvCache, n_batch: int) -> None:
        self.kv = kv
        self.n_batch = n_batch
        self.waiting: list[tuple[JobGroup, Job, int]] = []
        """Group, job, and the next prompt position to decode."""

    @staticmethod
    def fits(group: JobGroup) -> bool:
        return len(group.jobs) == 1 and not group.exact and group.jobs[0].score_from is None

    def add(self, group: JobGroup, prefill: Prefill) -> None:
        job = group.jobs[0]
        self.waiting.append((group, job, prefill.keep(job, len(self.kv.cached[job.seq]))))

    def drop(self, group: JobGroup) -> None:
        self.waiting = [entry for entry in self.waiting if entry[0] is not group]

    def fill(self, rows: int) -> tuple[int, list[tuple[JobGroup, Job, int]]]:
        """Puts prompt tokens in the batch after its first `rows` rows, up to n_batch; the
        rows now in the batch, and the jobs whose last prompt token is in it (at that row)."""
        finishing: list[tuple[JobGroup, Job, int]] = []
        still: list[tuple[JobGroup, Job, int]] = []
        start = rows
        for group, job, position in self.waiting:
            take = min(len(job.prompt) - position, self.n_batch - rows)
            for offset in range(take):
                last = position + offset == len(job.prompt) - 1
                self.kv.put(rows, job.prompt[position + offset], job.seq, last)
                if last:
                    finishing.append((group, job, rows))
                rows += 1
            if position + take < len(job.prompt):
                still.append((group, job, position + take))
        self.waiting = still
        self.kv.stats.prompt_tokens_decoded += rows - start
        return rows, finishing
