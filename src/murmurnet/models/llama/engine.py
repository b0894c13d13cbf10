"""A batched, continuously scheduled generation engine on llama.cpp's low-level API.

One context holds one KV sequence per running agent. The prompt prefix a group of agents
shares is decoded once and copied to the other sequences; each step then decodes one token
for every active sequence of every admitted group in a single `llama_decode`. Each
sequence's cached tokens are remembered, so a later call (the next round, the summary, the
next chat turn) decodes only the tokens the cache lacks. Concurrent callers share the
engine: a worker thread admits waiting groups between steps, first come first served, as
long as free sequences and KV cells allow; a lone request's prompt rides in the running
steps' batches rather than stopping them for a decode of its own.

Only the worker thread touches the context while it runs. Callers wait with a timeout and
watch the worker, so a crashed worker fails them instead of leaving them hanging; a
cancelled group leaves at the next step or prefill chunk; `close` frees the context only
after the worker has left.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import llama_cpp

from murmurnet.cancellation import Cancellation
from murmurnet.errors import (
    BackendFailedError,
    CancelledError,
    InputError,
    ModelFileError,
    MurmurError,
)
from murmurnet.models.llama import cpu, native
from murmurnet.models.llama.job import Job, JobGroup, PieceCallback, make_sampler
from murmurnet.models.llama.kv import EngineStats, KvCache, common_prefix
from murmurnet.models.llama.prefill import Joining, Prefill
from murmurnet.models.llama.scheduler import Scheduler, cancelled, engine_failure
from murmurnet.models.llama.tokens import Bannable, token_piece, tokenize
from murmurnet.types import Completion, GenerationRequest

_SCORING = GenerationRequest(messages=[], max_tokens=1, temperature=0.0, repeat_penalty=1.0)

__all__ = ["EngineStats", "LlamaEngine", "common_prefix"]

_POLL_SECONDS = 0.25
_JOIN_SECONDS = 120.0
log = logging.getLogger("murmurnet.llama")


class _Interrupted(Exception):
    """Leaves a prefill between two chunks (the group was cancelled or the engine closes)."""


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
        self.path = path
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), cpu.model_params())
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
        self.n_ctx = llama_cpp.llama_n_ctx(self.ctx)
        self.n_seq_max = n_seq_max
        self.n_batch = n_batch
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.bannable = Bannable(self.vocab, self.n_vocab)
        # Sliding-window layers reuse cells out of order: no cell mirror can be trusted there.
        mirrored = llama_cpp.llama_model_n_swa(self.model) == 0
        self.kv = KvCache(self.ctx, n_seq_max, n_batch, mirrored)
        self._prefill = Prefill(
            self.kv, n_batch, self._sample, self._logprob, self._check_interrupt
        )
        self._joining = Joining(self.kv, n_batch)
        self._queue = Scheduler(self.kv, n_seq_max, self.n_ctx)
        self._prefilling: JobGroup | None = None
        self._starting: list[JobGroup] = []
        self._wake = threading.Condition()
        self._working = threading.Lock()  # held by the worker while it uses the context
        self._closing = False
        self._closed = False
        self._free_on_exit = False
        self._broken: BaseException | None = None
        self._worker: threading.Thread | None = None
        native.track(self)

    @property
    def stats(self) -> EngineStats:
        return self.kv.stats

    def load(self) -> dict[str, float]:
        """Gauges for a metrics scrape, read without the worker's lock (maybe a decode old)."""
        waiting = sum(len(group.jobs) for group in list(self._queue.waiting))
        return self.kv.gauges(len(self._queue.active_jobs()), waiting)

    @property
    def cached(self) -> dict[int, list[int]]:
        return self.kv.cached

    # -- tokens -----------------------------------------------------------------------------

    def tokenize(
        self, text: str, add_special: bool = True, parse_special: bool = False
    ) -> list[int]:
        """Text as data by default: `<|im_start|>` in a document stays plain text."""
        return tokenize(self.vocab, text, add_special, parse_special)

    def piece(self, token: int) -> bytes:
        return token_piece(self.vocab, token)

    def chat_template(self) -> bytes | None:
        template: bytes | None = llama_cpp.llama_model_chat_template(self.model, None)
        return template

    # -- the caller's side ----------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[list[int]],
        requests: Sequence[GenerationRequest],
        callbacks: Sequence[PieceCallback | None],
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        """Run one group of requests to completion (together with whatever else runs).

        Raises what a callback raised (the same object), `CancelledError` when `cancel`
        fires, `BackendFailedError` when the engine itself broke."""
        jobs = [Job(list(p), r, c) for p, r, c in zip(prompts, requests, callbacks, strict=True)]
        if not jobs:
            return []
        group = self._run_group(jobs, cancel)
        return [job.completion(group) for job in jobs]

    def _run_group(self, jobs: list[Job], cancel: Cancellation | None) -> JobGroup:
        self._queue.refuse_impossible(jobs)
        if cancel is not None:
            cancel.raise_if_cancelled()
        group = JobGroup(jobs, submitted=time.perf_counter())
        remove: Callable[[], None] | None = None
        try:
            with self._wake:
                self._refuse_unusable()
                self._queue.waiting.append(group)
                self._ensure_worker()
                self._wake.notify()
            if cancel is not None:
                remove = cancel.on_cancel(lambda: group.cancel(cancel.reason))
            self._wait(group)
        except BaseException:  # the caller leaves (Ctrl-C): the group goes at the next step
            group.cancel("interrupted")
            raise
        finally:
            if remove is not None:
                remove()
        if group.error is not None:
            raise group.error
        return group

    def score(
        self,
        prompt: Sequence[int],
        continuations: Sequence[Sequence[int]],
        cancel: Cancellation | None = None,
    ) -> list[list[float]]:
        """Each continuation's token log-probabilities after `prompt`. They run as one group
        beside whatever else runs: the prompt is decoded once and shared by every sequence."""
        if any(not tokens for tokens in continuations):
            raise InputError("a continuation to score is empty")
        prompts = [[*prompt, *tokens] for tokens in continuations]
        jobs = [Job(p, _SCORING, None, score_from=len(prompt)) for p in prompts]
        self._run_group(jobs, cancel)
        return [job.scored for job in jobs]

    def _wait(self, group: JobGroup) -> None:
        while not group.finished.wait(_POLL_SECONDS):
            worker = self._worker
            if (worker is None or not worker.is_alive()) and not group.finished.is_set():
                raise BackendFailedError(
                    "the llama.cpp worker stopped before finishing the request"
                ) from self._broken

    def _refuse_unusable(self) -> None:
        if self._broken is not None:
            raise BackendFailedError("the llama.cpp engine failed earlier") from self._broken
        if self._closing:
            raise BackendFailedError("the model was closed")

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="llama-engine", daemon=True)
            self._worker.start()

    def forget(self, seq: int) -> None:
        """Drop one idle sequence's cache (benchmarks start cold with this)."""
        with self._working, self._wake:
            if self._closed or seq in {job.seq for job in self._queue.active_jobs()}:
                return
            self.kv.forget(seq, 0)

    # -- the worker's side --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._wake:
                    while not (self._closing or self._queue.waiting or self._queue.active):
                        self._wake.wait()
                    if self._closing:
                        break
                    self._starting = self._queue.admit()
                with self._working:
                    while self._starting:
                        self._start(self._starting[0])
                        self._starting.pop(0)
                    self._drop_cancelled()
                    if self._queue.active and not self._closing:
                        self._step()
        except BaseException as error:  # a bug or a broken context: nothing here is trusted now
            log.exception("the llama.cpp engine failed")
            self._broken = cause = error
            self._fail_everything(lambda: engine_failure(cause))
            return
        self._fail_everything(lambda: CancelledError("the model was closed while generating"))
        if self._free_on_exit:
            self._free()

    def _start(self, group: JobGroup) -> None:
        group.admitted = time.perf_counter()
        self._prefilling = group
        try:
            self._queue.assign_sequences(group.jobs)
            for job in group.jobs:
                banned = self.bannable.banned(job.request)
                job.sampler = make_sampler(job.request, self.n_vocab, banned)
            self._queue.make_room(group)
            self._queue.active.append(group)
            if Joining.fits(group):
                return self._joining.add(group, self._prefill)
            self._prefill.run(group.jobs)
        except _Interrupted:
            self._end(group, group.failure or cancelled(group))
            return
        except MurmurError as error:
            self._end(group, error, forget=True)
            return
        finally:
            self._prefilling = None
        group.prefilled = time.perf_counter()
        self._settle(group)

    def _check_interrupt(self) -> None:
        """Between prefill chunks: stop for a cancel, a closing engine or a failed callback."""
        group = self._prefilling
        if self._closing or (
            group is not None and (group.cancel_reason is not None or group.failure is not None)
        ):
            raise _Interrupted

    def _step(self) -> None:
        """One token for every generating sequence, and joining prompts' tokens in the room
        left, in one decode. A seeded sequence left alone gets a throwaway second row: a
        one-row decode over a long cache would take another attention kernel than the rows
        it ran beside so far."""
        kv = self.kv
        every = self._queue.active_jobs()
        kv.stats.max_active_sequences = max(kv.stats.max_active_sequences, len(every))
        active = [job for job in every if job.pending >= 0]  # the others' prompts join
        for index, job in enumerate(active):
            kv.put(index, job.pending, job.seq, True)
        rows, joined = self._joining.fill(len(active))
        spare = rows == 1 and bool(active) and active[0].exact
        if spare:
            kv.put_spare(1, active[0].seq)
        try:
            kv.decode(rows + spare)
        except MurmurError as error:
            for group in list(self._queue.active):
                self._end(group, error, forget=True)
            return
        if spare:
            kv.drop_spare(active[0].seq)
        for index, job in enumerate(active):
            self._sample(job, index)
        for group, job, index in joined:
            group.prefilled = time.perf_counter()
            self._sample(job, index)
        for group in list(self._queue.active):
            self._settle(group)

    def _logprob(self, index: int, token: int) -> float:
        """log softmax of batch row `index`'s raw logits at `token`: the model's own view,
        before any penalty, temperature or truncation a sampler applies."""
        return native.token_logprob(self.ctx, index, self.n_vocab, token)

    def _sample(self, job: Job, index: int) -> None:
        if job.score_from is not None:  # scored during the prefill; nothing to generate
            job.finish("stop")
            job.finished_at = time.perf_counter()
            return
        if job.request.japanese_only:  # the ban that depends on the text so far
            self.bannable.forbid_foreign_endings(self.ctx, index, job.decoder.getstate()[0])
        token = llama_cpp.llama_sampler_sample(job.sampler, self.ctx, index)
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            job.finish("stop")
        else:
            if job.request.logprobs:
                job.logprobs.append(self._logprob(index, token))
            if job.first_token_at is None:
                job.first_token_at = time.perf_counter()
            job.generated.append(token)
            self.kv.stats.tokens_generated += 1
            job.accept(self.piece(token))
            job.pending = token
        if job.done:
            job.finished_at = time.perf_counter()

    def _settle(self, group: JobGroup) -> None:
        """End a group whose callback failed or whose jobs are all done."""
        if group not in self._queue.active:
            return
        failure = group.failure
        if failure is not None:
            self._end(group, failure)
        elif all(job.done for job in group.jobs):
            self._end(group, None)

    def _end(self, group: JobGroup, error: BaseException | None, forget: bool = False) -> None:
        """Free the group's sequences; after a failed decode their caches are not trusted."""
        if group in self._queue.active:
            self._queue.active.remove(group)
        self._joining.drop(group)
        for job in group.jobs:
            job.release()
            if forget and job.seq >= 0:
                self.kv.forget(job.seq, 0)
        if error is not None:
            group.fail(error)
        else:
            group.finished.set()

    def _drop_cancelled(self) -> None:
        for group in [g for g in self._queue.active if g.cancel_reason is not None]:
            self._end(group, cancelled(group))

    def _fail_everything(self, error: Callable[[], BaseException]) -> None:
        with self._wake:
            groups = self._queue.drain(self._starting)
        for group in groups:
            for job in group.jobs:
                job.release()
            group.fail(error())

    # -- the end ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the worker at its next step or chunk, then free the context. If it does not
        stop, the context is leaked rather than freed under a running decode."""
        with self._wake:
            if self._closed:
                return
            self._closing = True
            self._wake.notify_all()
            worker = self._worker
        if worker is not None and worker.is_alive():
            if worker is threading.current_thread():  # a callback closed the model
                self._free_on_exit = True
                return
            worker.join(_JOIN_SECONDS)
            if worker.is_alive():
                log.error(
                    "the llama.cpp worker did not stop within %.0f s; its context is left "
                    "allocated rather than freed under a running decode",
                    _JOIN_SECONDS,
                )
                return
        self._fail_everything(lambda: BackendFailedError("the model was closed"))
        self._free()

    def _free(self) -> None:
        with self._wake:
            if self._closed:
                return
            self._closed = True
        native.untrack(self)
        self.kv.free()
        llama_cpp.llama_free(self.ctx)
        llama_cpp.llama_model_free(self.model)
        self.ctx = None
