"""One sequence of the llama.cpp engine: its sampler chain, its text, its stop rules."""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import llama_cpp

from murmurnet.models.loops import kept_at, loop_start, settled_until
from murmurnet.types import Completion, GenerationRequest

PieceCallback = Callable[[str], None]


def make_sampler(request: GenerationRequest, n_vocab: int, banned: Sequence[int]) -> Any:
    """A per-sequence chain: banned tokens (end of generation for `ignore_eos`, Hangul and
    Chinese characters outside Japanese writing for `japanese_only`), penalties, then
    greedy or top-k → top-p → min-p → temp → dist."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add = llama_cpp.llama_sampler_chain_add
    if banned:
        biases = (llama_cpp.llama_logit_bias * len(banned))()
        for slot, token in zip(biases, banned, strict=True):
            slot.token, slot.bias = token, float("-inf")
        add(chain, llama_cpp.llama_sampler_init_logit_bias(n_vocab, len(banned), biases))
    if request.repeat_penalty != 1.0:
        add(
            chain, llama_cpp.llama_sampler_init_penalties(n_vocab, 64, request.repeat_penalty, 0, 0)
        )
    if request.temperature <= 0.0:
        add(chain, llama_cpp.llama_sampler_init_greedy())
        return chain
    if request.top_k > 0:
        add(chain, llama_cpp.llama_sampler_init_top_k(request.top_k))
    add(chain, llama_cpp.llama_sampler_init_top_p(request.top_p, 1))
    if request.min_p > 0:
        add(chain, llama_cpp.llama_sampler_init_min_p(request.min_p, 1))
    add(chain, llama_cpp.llama_sampler_init_temp(request.temperature))
    seed = request.seed if request.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED
    add(chain, llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
    return chain


@dataclass(eq=False)
class Job:
    """A request while it runs: its sequence, sampler, output and stop handling."""

    prompt: list[int]
    request: GenerationRequest
    on_piece: PieceCallback | None
    seq: int = -1
    sampler: Any = None
    pending: int = -1
    reused: int = 0
    score_from: int | None = None
    """Set for a scoring job: the prompt from here on is the continuation being scored."""
    scored: list[float] = field(default_factory=list)
    generated: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    text: str = ""
    emitted: int = 0
    done: bool = False
    finish_reason: str = "stop"
    failure: BaseException | None = None
    first_token_at: float | None = None
    finished_at: float = 0.0
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))

    @property
    def exact(self) -> bool:
        """A seeded sampled request must repeat: its arithmetic is kept in a fixed shape
        (the contract is in `kv`)."""
        return self.request.seed is not None and self.request.temperature > 0.0

    @property
    def own_from(self) -> int:
        """The first prompt position this call must decode itself (never taken from a cache or
        a shared prefix): the last one for generation, the one before the continuation for
        scoring, since its logits give the continuation's first token."""
        return len(self.prompt) - 1 if self.score_from is None else self.score_from - 1

    def wants_logits(self, position: int) -> bool:
        last = position == len(self.prompt) - 1
        return last or (self.score_from is not None and position >= self.score_from - 1)

    def accept(self, piece: bytes) -> None:
        """Take one generated token's bytes: stop string, a loop, limit, or go on."""
        self.text += self.decoder.decode(piece)
        stops = self.request.stop
        for stop in stops:
            cut = self.text.find(stop, max(0, self.emitted - len(stop)))
            if cut >= 0:
                self.text = self.text[:cut]
                self.finish("stop")
                return
        guard = self.request.repeat_guard
        loop = loop_start(self.text) if guard else None
        if loop is not None:
            self.text = kept_at(self.text, loop, self.emitted)
            self.finish("stop")
            return
        if len(self.generated) >= self.request.max_tokens:
            self.finish("length")
            return
        hold = max((len(s) - 1 for s in stops), default=0)
        upto = len(self.text) - hold
        if guard and self.on_piece is not None:
            upto = min(upto, settled_until(self.text))
        self._emit(upto)

    def finish(self, reason: str) -> None:
        self.text += self.decoder.decode(b"", final=True)
        self.done = True
        self.finish_reason = reason
        self._emit(len(self.text))

    def _emit(self, upto: int) -> None:
        """Stream new text; a callback that raises ends this job and fails its group."""
        if self.on_piece is not None and upto > self.emitted and self.failure is None:
            try:
                self.on_piece(self.text[self.emitted : upto])
            except BaseException as error:  # handed to the caller, who decides what it means
                self.failure = error
                self.done = True
        self.emitted = max(self.emitted, upto)

    def completion(self, group: JobGroup) -> Completion:
        first = self.first_token_at
        return Completion(
            text=self.text,
            prompt_tokens=len(self.prompt),
            completion_tokens=len(self.generated),
            cached_tokens=self.reused,
            seconds=self.finished_at - group.admitted,
            queue_seconds=group.admitted - group.submitted,
            first_token_seconds=None if first is None else first - group.submitted,
            prefill_seconds=group.prefilled - group.admitted,
            decode_seconds=0.0 if first is None else self.finished_at - first,
            finish_reason="length" if self.finish_reason == "length" else "stop",
            token_logprobs=self.logprobs,
        )

    def release(self) -> None:
        if self.sampler is not None:
            llama_cpp.llama_sampler_free(self.sampler)
            self.sampler = None


@dataclass(eq=False)
class JobGroup:
    """The requests of one `generate` call: they share a prefix and finish together."""

    jobs: list[Job]
    submitted: float = 0.0
    admitted: float = 0.0
    prefilled: float = 0.0
    error: BaseException | None = None
    cancel_reason: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    @property
    def exact(self) -> bool:
        return any(job.exact for job in self.jobs)

    @property
    def failure(self) -> BaseException | None:
        return next((job.failure for job in self.jobs if job.failure is not None), None)

    def cancel(self, reason: str) -> None:
        """Any thread may call this; the worker drops the group at its next step or chunk."""
        self.cancel_reason = reason

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.finished.set()
