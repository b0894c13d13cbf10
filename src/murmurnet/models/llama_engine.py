"""A batched generation engine on llama.cpp's low-level API.

One context holds one KV sequence per agent. The prompt prefix all agents share is
decoded once and copied to the other sequences; each step then decodes one token for
every active sequence in a single `llama_decode`. Each sequence's cached tokens are
remembered, so a later call (the next round, the summary, the next chat turn) decodes
only the tokens that differ from what the cache already holds.
"""

from __future__ import annotations

import codecs
import ctypes
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import llama_cpp

from murmurnet.errors import ContextOverflowError, ModelFileError
from murmurnet.types import Completion, GenerationRequest

logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)

PieceCallback = Callable[[str], None]


@dataclass
class EngineStats:
    """Counters that show where the work went (tests assert on them)."""

    decode_calls: int = 0
    prompt_tokens_decoded: int = 0
    prompt_tokens_reused: int = 0
    tokens_generated: int = 0


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


_MIN_REPEATED_LINE = 6


def _ends_with_repeated_line(text: str) -> bool:
    """True when the line just completed already appeared earlier in the text."""
    if not text.endswith("\n"):
        return False
    lines = [line.strip() for line in text.rstrip("\n").split("\n")]
    last = lines[-1]
    return len(last) >= _MIN_REPEATED_LINE and last in lines[:-1]


@dataclass
class _Job:
    """One request while it runs: its sequence, sampler, output and stop handling."""

    prompt: list[int]
    request: GenerationRequest
    on_piece: PieceCallback | None
    seq: int = 0
    sampler: Any = None
    position: int = 0
    pending: int = -1
    reused: int = 0
    generated: list[int] = field(default_factory=list)
    text: str = ""
    emitted: int = 0
    done: bool = False
    finish_reason: str = "stop"
    seconds: float = 0.0
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))


class LlamaEngine:
    """Owns one model and one batched context; thread-safe through one lock."""

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int = 8192,
        n_seq_max: int = 16,
        n_batch: int = 512,
        threads: int | None = None,
    ) -> None:
        import os

        llama_cpp.llama_backend_init()
        model_params = llama_cpp.llama_model_default_params()
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), model_params)
        if not self.model:
            raise ModelFileError(
                f"cannot load model file {path}: not a valid GGUF or unsupported architecture"
            )
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_batch
        params.n_ubatch = n_batch
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
        self.add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self.vocab))
        self.batch = llama_cpp.llama_batch_init(max(n_batch, n_seq_max), 0, n_seq_max)
        self.cached: dict[int, list[int]] = {seq: [] for seq in range(n_seq_max)}
        self.stats = EngineStats()
        self.lock = threading.Lock()

    # -- tokens -----------------------------------------------------------------------------

    def tokenize(self, text: str, add_special: bool = True) -> list[int]:
        data = text.encode("utf-8")
        room = len(data) + 16
        buffer = (llama_cpp.llama_token * room)()
        n = llama_cpp.llama_tokenize(self.vocab, data, len(data), buffer, room, add_special, True)
        if n < 0:
            room = -n
            buffer = (llama_cpp.llama_token * room)()
            n = llama_cpp.llama_tokenize(
                self.vocab, data, len(data), buffer, room, add_special, True
            )
        return list(buffer[:n])

    def piece(self, token: int) -> bytes:
        buffer = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, 64, 0, False)
        if n < 0:
            buffer = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, -n, 0, False)
        return buffer.raw[:n]

    def chat_template(self) -> bytes | None:
        template: bytes | None = llama_cpp.llama_model_chat_template(self.model, None)
        return template

    # -- generation ---------------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[list[int]],
        requests: Sequence[GenerationRequest],
        callbacks: Sequence[PieceCallback | None],
    ) -> list[Completion]:
        if len(prompts) > self.n_seq_max:
            raise ContextOverflowError(
                f"{len(prompts)} sequences requested but the context holds {self.n_seq_max}"
            )
        jobs = [_Job(list(p), r, c) for p, r, c in zip(prompts, requests, callbacks, strict=True)]
        with self.lock:
            started = time.perf_counter()
            try:
                self._assign_sequences(jobs)
                self._check_room(jobs)
                self._prefill(jobs)
                self._decode_loop(jobs, started)
            finally:
                for job in jobs:
                    if job.sampler:
                        llama_cpp.llama_sampler_free(job.sampler)
        return [
            Completion(
                text=job.text,
                prompt_tokens=len(job.prompt),
                completion_tokens=len(job.generated),
                cached_tokens=job.reused,
                seconds=job.seconds,
                finish_reason="length" if job.finish_reason == "length" else "stop",
            )
            for job in jobs
        ]

    def _assign_sequences(self, jobs: list[_Job]) -> None:
        """Give each job the free sequence whose cache shares most of its prompt."""
        free = set(range(self.n_seq_max))
        for job in jobs:
            job.seq = max(sorted(free), key=lambda s: _common_prefix(self.cached[s], job.prompt))
            free.discard(job.seq)
            job.sampler = self._make_sampler(job.request)

    def _check_room(self, jobs: list[_Job]) -> None:
        longest = max(len(j.prompt) + j.request.max_tokens for j in jobs)
        if longest > self.n_ctx:
            raise ContextOverflowError(
                f"prompt and reply need {longest} tokens but the context holds {self.n_ctx}",
                hint="shorten the input, lower the token limits or raise --context-size",
            )
        used = {j.seq for j in jobs}
        needed = sum(len(j.prompt) + j.request.max_tokens for j in jobs)
        held = sum(len(self.cached[s]) for s in self.cached if s not in used)
        if needed + held > self.n_ctx:
            for seq in self.cached:
                if seq not in used:
                    self._forget(seq, 0)

    def _forget(self, seq: int, keep: int) -> None:
        llama_cpp.llama_memory_seq_rm(self.memory, seq, keep, -1)
        del self.cached[seq][keep:]

    def _prefill(self, jobs: list[_Job]) -> None:
        """Decode only what the cache lacks; a prefix shared by all jobs is decoded once."""
        shared = min(len(j.prompt) for j in jobs) - 1
        for job in jobs[1:]:
            shared = min(shared, _common_prefix(jobs[0].prompt, job.prompt))
        if len(jobs) > 1 and shared > 0:
            base = max(jobs, key=lambda j: _common_prefix(self.cached[j.seq], j.prompt[:shared]))
            self._extend(base, base.prompt[:shared])
            for job in jobs:
                if job is not base and _common_prefix(self.cached[job.seq], job.prompt) < shared:
                    self._forget(job.seq, 0)
                    llama_cpp.llama_memory_seq_cp(self.memory, base.seq, job.seq, 0, shared)
                    self.cached[job.seq] = list(base.prompt[:shared])
        pending: list[tuple[_Job, list[int]]] = []
        for job in jobs:
            keep = min(_common_prefix(self.cached[job.seq], job.prompt), len(job.prompt) - 1)
            self._forget(job.seq, keep)
            job.reused = keep
            pending.append((job, job.prompt[keep:]))
        self._decode_prompts(pending)

    def _extend(self, job: _Job, tokens: list[int]) -> None:
        """Make one sequence's cache start with `tokens` (no logits needed)."""
        keep = _common_prefix(self.cached[job.seq], tokens)
        if keep == len(tokens):
            return
        self._forget(job.seq, keep)
        self._decode_prompts([(job, tokens[keep:])], want_logits=False)

    def _decode_prompts(
        self, pending: list[tuple[_Job, list[int]]], want_logits: bool = True
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
            last_of: list[tuple[_Job, int]] = []
            for index, (job, token, is_last) in enumerate(chunk):
                logits = want_logits and is_last
                self._put(index, token, len(self.cached[job.seq]), job.seq, logits)
                self.cached[job.seq].append(token)
                if logits:
                    last_of.append((job, index))
            self._decode(len(chunk))
            self.stats.prompt_tokens_decoded += len(chunk)
            for job, index in last_of:
                job.position = len(self.cached[job.seq])
                self._accept(job, llama_cpp.llama_sampler_sample(job.sampler, self.ctx, index))
        for job, _ in pending:
            self.stats.prompt_tokens_reused += job.reused

    def _decode_loop(self, jobs: list[_Job], started: float) -> None:
        for job in jobs:
            if job.done:
                job.seconds = time.perf_counter() - started
        while active := [j for j in jobs if not j.done]:
            for index, job in enumerate(active):
                self._put(index, job.pending, job.position, job.seq, True)
                self.cached[job.seq].append(job.pending)
                job.position += 1
            self._decode(len(active))
            for index, job in enumerate(active):
                self._accept(job, llama_cpp.llama_sampler_sample(job.sampler, self.ctx, index))
                if job.done:
                    job.seconds = time.perf_counter() - started

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

    def _accept(self, job: _Job, token: int) -> None:
        """Take one sampled token: end, stop string, token limit, or keep going."""
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            self._finish(job, "stop")
            return
        job.generated.append(token)
        self.stats.tokens_generated += 1
        job.text += job.decoder.decode(self.piece(token))
        stops = job.request.stop
        for stop in stops:
            cut = job.text.find(stop, max(0, job.emitted - len(stop)))
            if cut >= 0:
                job.text = job.text[:cut]
                self._finish(job, "stop")
                return
        if job.request.repeat_guard and _ends_with_repeated_line(job.text):
            job.text = job.text[: job.text.rstrip("\n").rfind("\n") + 1].rstrip()
            self._finish(job, "stop")
            return
        if len(job.generated) >= job.request.max_tokens:
            self._finish(job, "length")
            return
        hold = max((len(s) - 1 for s in stops), default=0)
        self._emit(job, len(job.text) - hold)
        job.pending = token

    def _emit(self, job: _Job, upto: int) -> None:
        if job.on_piece is not None and upto > job.emitted:
            job.on_piece(job.text[job.emitted : upto])
        job.emitted = max(job.emitted, upto)

    def _finish(self, job: _Job, reason: str) -> None:
        job.text += job.decoder.decode(b"", final=True)
        job.done = True
        job.finish_reason = reason
        self._emit(job, len(job.text))

    def _make_sampler(self, request: GenerationRequest) -> Any:
        params = llama_cpp.llama_sampler_chain_default_params()
        chain = llama_cpp.llama_sampler_chain_init(params)
        add = llama_cpp.llama_sampler_chain_add
        if request.repeat_penalty != 1.0:
            penalty = llama_cpp.llama_sampler_init_penalties(
                self.n_vocab, 64, request.repeat_penalty, 0.0, 0.0
            )
            add(chain, penalty)
        if request.temperature <= 0.0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
            return chain
        if request.top_k > 0:
            add(chain, llama_cpp.llama_sampler_init_top_k(request.top_k))
        add(chain, llama_cpp.llama_sampler_init_top_p(request.top_p, 1))
        add(chain, llama_cpp.llama_sampler_init_temp(request.temperature))
        seed = request.seed if request.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED
        add(chain, llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
        return chain

    def close(self) -> None:
        if getattr(self, "ctx", None):
            llama_cpp.llama_batch_free(self.batch)
            llama_cpp.llama_free(self.ctx)
            llama_cpp.llama_model_free(self.model)
            self.ctx = None
