"""A shipped fake backend so that tests and examples never need a model."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from murmurnet.cancellation import Cancellation
from murmurnet.errors import ScriptExhaustedError, UnsupportedError
from murmurnet.models.base import TokenCallback, rough_token_count, rough_truncate
from murmurnet.types import Completion, ContinuationScore, GenerationRequest, Message

Responder = Callable[[GenerationRequest], str]
Likelihood = Callable[[Sequence[Message], str], float]
"""A scripted model's total log-probability of a continuation after the messages."""


class ScriptedBackend:
    """Returns queued replies in order (or asks a function), and records every request.

    It fails loudly with `ScriptExhaustedError` when asked for more replies than it holds,
    so a test notices an unexpected extra model call.
    """

    can_batch = True

    def __init__(
        self,
        responses: Iterable[str] | Responder = (),
        *,
        name: str = "scripted",
        context_size: int = 8192,
        honour_stops: bool = False,
        word_delay: float = 0.0,
        likelihood: Likelihood | None = None,
        honour_limits: bool = False,
        confidence: Callable[[GenerationRequest], float] | None = None,
        is_chat: bool = True,
    ) -> None:
        """`honour_stops` cuts each reply at the first of its request's stop strings, as a
        real backend does, so a test can show which stops a stage sends. `word_delay` streams
        replies word by word with that pause, checking for cancellation between words, so
        tests can run, overlap and cancel runs as with a real model. `likelihood` lets it
        score continuations (`score`), as a llama.cpp model does. `honour_limits` cuts a
        reply at its request's `max_tokens` (rough tokens) with finish reason "length".
        `confidence` gives a request's probability per token: a request that asks for
        `logprobs` gets its log for every (rough) token of the reply. `is_chat` False makes it
        rank options as a base model does."""
        self.name = name
        self.is_chat = is_chat
        self.honour_stops = honour_stops
        self.honour_limits = honour_limits
        self.word_delay = word_delay
        self.context_size = context_size
        self._responder: Responder | None = responses if callable(responses) else None
        self._queue: list[str] = [] if callable(responses) else list(responses)
        self.requests: list[GenerationRequest] = []
        self.batches: list[list[GenerationRequest]] = []
        self._likelihood = likelihood
        self._confidence = confidence
        self.scored: list[list[str]] = []
        self._lock = threading.Lock()

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        with self._lock:
            self.batches.append(list(requests))
            self.requests.extend(requests)
            texts = [self._next(request) for request in requests]
        completions = []
        for index, (request, text) in enumerate(zip(requests, texts, strict=True)):
            if self.honour_stops:
                text = cut_at_stops(text, request.stop)
            cut = False
            if self.honour_limits:
                text, cut = rough_truncate(text, request.max_tokens)
            self._stream(index, text, on_token, cancel)
            prompt = "\n".join(m.content for m in request.messages)
            tokens = rough_token_count(text)
            logprobs = []
            if request.logprobs and self._confidence is not None:
                logprobs = [math.log(self._confidence(request))] * tokens
            completions.append(
                Completion(
                    text=text,
                    prompt_tokens=rough_token_count(prompt),
                    completion_tokens=tokens,
                    finish_reason="length" if cut else "stop",
                    token_logprobs=logprobs,
                )
            )
        return completions

    def _stream(
        self, index: int, text: str, on_token: TokenCallback | None, cancel: Cancellation | None
    ) -> None:
        pieces = re.findall(r"\S+\s*|\s+", text) if self.word_delay else [text]
        for piece in pieces:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if on_token is not None and piece:
                on_token(index, piece)
            if self.word_delay:
                time.sleep(self.word_delay)

    def _next(self, request: GenerationRequest) -> str:
        if self._responder is not None:
            return self._responder(request)
        if not self._queue:
            raise ScriptExhaustedError(
                f"scripted backend {self.name!r} ran out of replies at request "
                f"{self.requests.index(request) + 1} ({request.tag or 'untagged'})"
            )
        return self._queue.pop(0)

    def score(
        self,
        messages: Sequence[Message],
        continuations: Sequence[str],
        cancel: Cancellation | None = None,
    ) -> list[ContinuationScore]:
        if self._likelihood is None:
            raise UnsupportedError(f"scripted backend {self.name!r} was given no likelihood")
        if cancel is not None:
            cancel.raise_if_cancelled()
        with self._lock:
            self.scored.append(list(continuations))
        return [
            ContinuationScore(
                text=text,
                logprob=self._likelihood(messages, text),
                tokens=max(rough_token_count(text), 1),
            )
            for text in continuations
        ]

    @property
    def remaining(self) -> int:
        return len(self._queue)

    def count_tokens(self, text: str) -> int:
        return rough_token_count(text)

    def close(self) -> None:
        pass


def cut_at_stops(text: str, stops: Sequence[str]) -> str:
    """The text up to the earliest stop string, as a backend that honours stops returns it."""
    cuts = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return text[: min(cuts)] if cuts else text


def create(spec: object, options: object) -> ScriptedBackend:
    """Registry factory: a scripted backend that echoes the role line (for smoke runs)."""
    name = getattr(spec, "name", "scripted")
    replies = list(getattr(spec, "responses", []) or [])
    return ScriptedBackend(replies, name=name, word_delay=getattr(spec, "word_delay", 0.0))
