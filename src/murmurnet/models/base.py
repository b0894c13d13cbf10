"""The batch-first backend contract every model kind implements."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from murmurnet.cancellation import Cancellation
from murmurnet.errors import UnsupportedError
from murmurnet.types import Completion, ContinuationScore, GenerationRequest, Message

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]|\w+|[^\w\s]")


def rough_token_count(text: str) -> int:
    """A model-free token estimate (words, punctuation, each CJK character), for backends
    that cannot tokenize locally."""
    return len(_TOKEN.findall(text))


def rough_truncate(text: str, max_tokens: int) -> tuple[str, bool]:
    """The text cut after `max_tokens` rough tokens, and whether it was cut."""
    tokens = list(_TOKEN.finditer(text))
    if len(tokens) <= max_tokens:
        return text, False
    return text[: tokens[max_tokens - 1].end()], True


TokenCallback = Callable[[int, str], None]
"""Streaming hook: called with (index of the request in the batch, new text)."""


@runtime_checkable
class Backend(Protocol):
    """A loaded model. The pipeline hands it a whole round of requests at once.

    A backend that can batch (llama.cpp sequences, padded transformers, a server that
    takes concurrent requests) sets `can_batch` and runs the list together; otherwise it
    runs the requests one after another. Passing `on_token` streams text as it is made.
    """

    name: str
    can_batch: bool
    context_size: int

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        """Complete every request. An exception raised by `on_token` fails this call (and
        reaches the caller); `cancel` ends it early with `CancelledError`."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...


@runtime_checkable
class LikelihoodScorer(Protocol):
    """A backend that can say how likely each of several texts is after one prompt.

    The prompt is decoded once and shared by every continuation; a choice scorer ranks a
    question's options this way instead of asking the model to name one. `is_chat` is False
    for a base model, whose prompt is a plain document rather than a chat template: the two
    rank options best from different prompts (`murmur.option_rank.likeliest_option`)."""

    is_chat: bool

    def score(
        self,
        messages: Sequence[Message],
        continuations: Sequence[str],
        cancel: Cancellation | None = None,
    ) -> list[ContinuationScore]: ...


@runtime_checkable
class LoadReporter(Protocol):
    """A backend that can say how busy it is right now, for metrics: "active_sequences",
    "waiting_requests", "kv_cells_used", "kv_cells_total", "last_batch_tokens"."""

    def load(self) -> Mapping[str, float]: ...


_OPENS_ANSWER = re.compile(r"(?:^|\n)(?:Answer|A|答え|回答|解答)\s*[:：]$")


def opens_answer(text: str) -> bool:
    """Whether a base model's document already ends with its answer line ("質問: …\n答え:"):
    its layout then adds no other, and a scored reply starts after a space, as in text."""
    return bool(_OPENS_ANSWER.search(text))


def likelihood_scorer(backend: Backend) -> LikelihoodScorer:
    """The backend as a scorer, or an `UnsupportedError` naming it."""
    if isinstance(backend, LikelihoodScorer):
        return backend
    raise UnsupportedError(
        f"model {backend.name!r} cannot score continuations",
        hint="use a llama.cpp (GGUF) model for likelihood scoring",
    )
