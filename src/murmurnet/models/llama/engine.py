"""A batched, continuously scheduled generation engine on llama.cpp's low-level API.

One context holds one KV sequence per running agent. The prompt prefix a group of agents
shares is decoded once and copied to the other sequences; each step then decodes one token
for every active sequence of every admitted group in a single `llama_decode`. Each
sequence's cached tokens are remembered, so a later call (the next round, the summary, the
next chat turn) decodes only the tokens the cache lacks. Concurrent callers share the
engine: a worker thread admits waiting groups between steps, first come first served, as
long as free sequences and KV cells allow.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import llama_cpp

from murmurnet.errors import ContextOverflowError, ModelFileError, MurmurError
from murmurnet.models.llama.job import Job, JobGroup, PieceCallback, make_sampler
from murmurnet.models.llama.tokens import tokenize
from murmurnet.types import Completion, GenerationRequest

_GGML_LOG_ERROR = 4


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _quiet_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama.cpp talks a lot on stderr; only its errors reach the user."""
    if level == _GGML_LOG_ERROR:
        logging.getLogger("murmurnet.llama").error(text.decode("utf-8", "replace").rstrip())


llama_cpp.llama_log_set(_quiet_log, ctypes.c_void_p(0))


@dataclass
class EngineStats:
    """Counters that show where the work went (tests assert on them)."""

    decode_calls: int = 0
    prompt_tokens_decoded: int = 0
    prompt_tokens_reused: int = 0
    tokens_generated: int = 0
    max_active_sequences: int = 0


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _shared_length(jobs: Sequence[Job]) -> int:
    """Tokens every job's prompt starts with, keeping at least one own token per job."""
    shared = min(len(j.prompt) for j in jobs) - 1
    for job in jobs[1:]:
        shared = min(shared, common_prefix(jobs[0].prompt, job.prompt))
    return max(shared, 0)


def _cells_needed(jobs: Sequence[Job]) -> int:
    shared = _shared_length(jobs) if len(jobs) > 1 else 0
    return shared + sum(len(j.prompt) - shared + j.request.max_tokens for j in jobs)


class LlamaEngine:
    """Owns one model and one batched context; `generate` is safe to call from any thread."""

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int = 8192,
        n_seq_max: int = 16,
        n_batch: int = 512,
        threads: int | None = None,
    ) -> None:
        llama_cpp.llama_backend_init()
        self.model = llama_cpp.llama_model_load_from_file(
            str(path).encode(), llama_cpp.llama_model_default_params()
        )
        if not self.model:
            raise ModelFileError(
                f"cannot load model file {path}: not a valid GGUF or unsupported architecture"
            )
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = n_batch
        params.n_seq_max = n_seq_max
        params.kv_unified = True
        params.n_threads = params.n_threads_batch = threads or os.cpu_count() or 2
        params.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(self.model, params)
        if not self.ctx:
            llama_cpp.llama_model_free(self.model)
            raise ModelFileError(f"cannot create a llama.cpp context for {path} (out of memory?)")
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.n_ctx = llama_cpp.llama_n_ctx(self.ctx)
        self.n_seq_max = n_seq_max
        self.n_batch = n_batch
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.batch = llama_cpp.llama_batch_init(max(n_batch, n_seq_max), 0, n_seq_max)
        self.cached: dict[int, list[int]] = {seq: [] for seq in range(n_seq_max)}
        self.stats = EngineStats()
        self._waiting: deque[JobGroup] = deque()
        self._active: list[JobGroup] = []
        self._wake = threading.Condition()
        self._closing = False
        self._worker: threading.Thread | None = None

    # -- tokens -----------------------------------------------------------------------------

    def tokenize(self, text: str, add_special: bool = True) -> list[int]:
        return tokenize(self.vocab, text, add_special, parse_special=True)

    def piece(self, token: int) -> bytes:
        size = 64
        while True:
            buffer = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, size, 0, False)
            if n >= 0:
                return buffer.raw[:n]
            size = -n

    @functools.cached_property
    def end_tokens(self) -> list[int]:
        """Every end-of-generation token (for `ignore_eos`)."""
        is_eog = llama_cpp.llama_vocab_is_eog
        return [t for t in range(self.n_vocab) if is_eog(self.vocab, t)]

    def chat_template(self) -> bytes | None:
        template: bytes | None = llama_cpp.llama_model_chat_template(self.model, None)
        return template

    # -- the caller's side ----------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[list[int]],
        requests: Sequence[GenerationRequest],
        callbacks: Sequence[PieceCallback | None],
    ) -> list[Completion]:
        """Run one group of requests to completion (together with whatever else runs)."""
        jobs = [Job(list(p), r, c) for p, r, c in zip(prompts, requests, callbacks, strict=True)]
        if not jobs:
            return []
        self._refuse_impossible(jobs)
        group = JobGroup(jobs)
        with self._wake:
            if self._closing:
                raise ModelFileError("the model was closed")
            self._waiting.append(group)
            self._ensure_worker()
            self._wake.notify()
        try:
            group.finished.wait()
        except BaseException:
            group.cancelled = True  # the worker drops it at the next step
            raise
        if group.error is not None:
            raise group.error
        return [job.completion() for job in jobs]

    def _refuse_impossible(self, jobs: list[Job]) -> None:
        if len(jobs) > self.n_seq_max:
            raise ContextOverflowError(
                f"{len(jobs)} sequences requested but the engine runs at most {self.n_seq_max}"
            )
        needed = max(_cells_needed(jobs), max(len(j.prompt) + j.request.max_tokens for j in jobs))
        if needed > self.n_ctx:
            raise ContextOverflowError(
                f"the prompts and replies need {needed} tokens but the context holds {self.n_ctx}",
                hint="shorten the input, lower the token limits or raise --context-size",
            )

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="llama-engine", daemon=True)
            self._worker.start()

    # -- the worker's side --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._wake:
                while not (self._closing or self._waiting or self._active):
                    self._wake.wait()
                if self._closing:
                    return
                admitted = self._admit()
            for group in admitted:
                self._start(group)
            self._drop_cancelled()
            if self._active:
                self._step()

    def _active_jobs(self) -> list[Job]:
        return [job for group in self._active for job in group.jobs if not job.done]

    def _admit(self) -> list[JobGroup]:
        """Waiting groups that fit now, in arrival order (a big group is never overtaken)."""
        admitted: list[JobGroup] = []
        busy = sum(len(g.jobs) for g in self._active)
        reserved = sum(_cells_needed(g.jobs) for g in self._active)
        while self._waiting:
            head = self._waiting[0]
            if head.cancelled:
                self._waiting.popleft()
                continue
            need = _cells_needed(head.jobs)
            if busy + len(head.jobs) > self.n_seq_max or (
                reserved + need > self.n_ctx and (self._active or admitted)
            ):
                break
            admitted.append(self._waiting.popleft())
            busy += len(head.jobs)
            reserved += need
        return admitted

    def _start(self, group: JobGroup) -> None:
        group.started = time.perf_counter()
        try:
            self._assign_sequences(group.jobs)
            self._make_room(group)
            self._active.append(group)
            self._prefill(group.jobs)
        except MurmurError as error:
            self._end(group, error)
        self._finish_ready(group)

    def _assign_sequences(self, jobs: list[Job]) -> None:
        """Give each job the free sequence whose cache shares most of its prompt."""
        in_use = {job.seq for job in self._active_jobs()}
        free = [seq for seq in range(self.n_seq_max) if seq not in in_use]
        for job in jobs:
            job.seq = max(free, key=lambda s: common_prefix(self.cached[s], job.prompt))
            free.remove(job.seq)
            job.sampler = make_sampler(job.request, self.n_vocab, self.end_tokens)

    def _make_room(self, group: JobGroup) -> None:
        """Drop idle sequences' caches when the new group would not fit beside them."""
        busy = {job.seq for g in (*self._active, group) for job in g.jobs}
        reserved = sum(_cells_needed(g.jobs) for g in (*self._active, group))
        idle = sum(len(self.cached[s]) for s in self.cached if s not in busy)
        if reserved + idle > self.n_ctx:
            for seq in self.cached:
                if seq not in busy:
                    self._forget(seq, 0)

    def forget(self, seq: int) -> None:
        """Drop one idle sequence's cache (benchmarks start cold with this)."""
        with self._wake:
            if seq in {job.seq for job in self._active_jobs()}:
                return
            self._forget(seq, 0)

    def _forget(self, seq: int, keep: int) -> None:
        llama_cpp.llama_memory_seq_rm(self.memory, seq, keep, -1)
        del self.cached[seq][keep:]

    def _prefill(self, jobs: list[Job]) -> None:
        """Decode only what the caches lack; the group's shared prefix is decoded once."""
        shared = _shared_length(jobs)
        if len(jobs) > 1 and shared > 0:
            prefix = jobs[0].prompt[:shared]
            base = max(jobs, key=lambda j: common_prefix(self.cached[j.seq], prefix))
            keep = common_prefix(self.cached[base.seq], prefix)
            if keep < shared:
                self._forget(base.seq, keep)
                self._decode_prompts([(base, prefix[keep:])], want_logits=False)
            for job in jobs:
                if job is not base and common_prefix(self.cached[job.seq], job.prompt) < shared:
                    self._forget(job.seq, 0)
                    llama_cpp.llama_memory_seq_cp(self.memory, base.seq, job.seq, 0, shared)
                    self.cached[job.seq] = list(prefix)
        pending: list[tuple[Job, list[int]]] = []
        for job in jobs:
            keep = min(common_prefix(self.cached[job.seq], job.prompt), len(job.prompt) - 1)
            self._forget(job.seq, keep)
            job.reused = keep
            self.stats.prompt_tokens_reused += keep
            pending.append((job, job.prompt[keep:]))
        self._decode_prompts(pending)

    def _decode_prompts(
        self, pending: list[tuple[Job, list[int]]], want_logits: bool = True
    ) -> None:
        """Decode prompt tails in chunks of n_batch; sample each job's first token as soon as
        the chunk holding its last prompt token is decoded (later chunks overwrite logits)."""
        entries = [
            (job, token, i == len(tokens) - 1)
            for job, tokens in pending
            for i, token in enumerate(tokens)
        ]
        for start in range(0, len(entries), self.n_batch):
            chunk = entries[start : start + self.n_batch]
            sample_at: list[tuple[Job, int]] = []
            for index, (job, token, is_last) in enumerate(chunk):
                logits = want_logits and is_last
                self._put(index, token, len(self.cached[job.seq]), job.seq, logits)
                self.cached[job.seq].append(token)
                if logits:
                    sample_at.append((job, index))
            self._decode(len(chunk))
            self.stats.prompt_tokens_decoded += len(chunk)
            for job, index in sample_at:
                job.position = len(self.cached[job.seq])
                self._sample(job, index)

    def _step(self) -> None:
        """One token for every active sequence, in one decode."""
        active = self._active_jobs()
        self.stats.max_active_sequences = max(self.stats.max_active_sequences, len(active))
        for index, job in enumerate(active):
            self._put(index, job.pending, job.position, job.seq, True)
            self.cached[job.seq].append(job.pending)
            job.position += 1
        try:
            self._decode(len(active))
        except MurmurError as error:
            for group in list(self._active):
                self._end(group, error)
            return
        for index, job in enumerate(active):
            self._sample(job, index)
        for group in list(self._active):
            self._finish_ready(group)

    def _sample(self, job: Job, index: int) -> None:
        token = llama_cpp.llama_sampler_sample(job.sampler, self.ctx, index)
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            job.finish("stop")
        else:
            job.generated.append(token)
            self.stats.tokens_generated += 1
            job.accept(self.piece(token))
            job.pending = token
        if job.done:
            job.seconds = time.perf_counter() - self._group_of(job).started

    def _group_of(self, job: Job) -> JobGroup:
        return next(g for g in self._active if job in g.jobs)

    def _finish_ready(self, group: JobGroup) -> None:
        if group in self._active and all(job.done for job in group.jobs):
            self._end(group, None)

    def _end(self, group: JobGroup, error: MurmurError | None) -> None:
        if group in self._active:
            self._active.remove(group)
        for job in group.jobs:
            job.release()
            if error is not None and job.seq >= 0:
                self._forget(job.seq, 0)
        if error is not None:
            group.fail(error)
        else:
            group.finished.set()

    def _drop_cancelled(self) -> None:
        for group in [g for g in self._active if g.cancelled]:
            self._end(group, None)

    def _put(self, index: int, token: int, position: int, seq: int, logits: bool) -> None:
        batch = self.batch
        batch.token[index] = token
        batch.pos[index] = position
        batch.n_seq_id[index] = 1
        batch.seq_id[index][0] = seq
        batch.logits[index] = logits

    def _decode(self, n_tokens: int) -> None:
        self.batch.n_tokens = n_tokens
        status = llama_cpp.llama_decode(self.ctx, self.batch)
        self.stats.decode_calls += 1
        if status != 0:
            raise ContextOverflowError(
                f"llama_decode failed with status {status} (no free KV cells for "
                f"{n_tokens} tokens)",
                hint="lower --agents or the token limits, or raise --context-size",
            )

    def close(self) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=30)
        for group in [*self._active, *self._waiting]:
            group.fail(ModelFileError("the model was closed"))
        if self.ctx:
            llama_cpp.llama_batch_free(self.batch)
            llama_cpp.llama_free(self.ctx)
            llama_cpp.llama_model_free(self.model)
            self.ctx = None
