"""The transformers backend's eyes on a running batch: one stopping criterion per padded
batch, called after every generation step, streams, stops and times each row."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from murmurnet.cancellation import Cancellation
from murmurnet.models.base import TokenCallback
from murmurnet.models.loops import loop_start, settled_until
from murmurnet.types import Completion, GenerationRequest


class StepWatch:
    """The stopping criterion called after every generation step of one padded batch.

    It ends a row once its decoded text holds a stop string (transformers' own
    `stop_strings` rebuilds text from vocabulary pieces and fails on some tokenizers), starts
    to loop (`loops`, unless the request turns its repeat guard off) or it
    reaches its own `max_tokens` (the batch runs to the largest), streams the text each row
    gained, and ends every row when the run is cancelled. Text that could still grow into a
    stop string, or an unfinished multi-byte character, is held back until it cannot.
    """

    def __init__(
        self,
        torch: Any,
        tokenizer: Any,
        batch: Sequence[GenerationRequest],
        indexes: Sequence[int],
        prompt_width: int,
        eos: set[int],
        on_token: TokenCallback | None,
        cancel: Cancellation | None,
    ) -> None:
        self._torch = torch
        self._tokenizer = tokenizer
        self._stops = [stop for stop in batch[0].stop if stop]
        self._guards = [request.repeat_guard for request in batch]
        self._hold = max((len(stop) for stop in self._stops), default=1) - 1
        self._limits = [request.max_tokens for request in batch]
        self._indexes = list(indexes)
        self._width = prompt_width
        self._eos = eos
        self._on_token = on_token
        self._cancel = cancel
        self._done = [False] * len(batch)
        self._sent = [""] * len(batch)
        self.admitted = 0.0
        self.first_step: float | None = None
        self._row_ended: list[float | None] = [None] * len(batch)

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        now = time.perf_counter()
        if self.first_step is None:
            self.first_step = now  # the prompt pass and the first token are done
        if self._cancel is not None and self._cancel.cancelled:
            return self._flags([True] * len(self._done), input_ids)
        generated = input_ids[:, self._width :]
        texts: list[str] | None = None
        if self._stops or self._on_token is not None or any(self._guards):
            texts = self._tokenizer.batch_decode(generated, skip_special_tokens=True)
        for row, done in enumerate(self._done):
            if done:
                continue
            count = int(generated.shape[1])
            last = int(generated[row, -1])
            kept = ended_text(texts[row], self._stops, self._guards[row]) if texts else None
            if last in self._eos or kept is not None or count >= self._limits[row]:
                self._done[row] = True
                self._row_ended[row] = now
            if texts is not None and self._on_token is not None:
                text = texts[row]
                ready = kept if kept is not None else text[: len(text) - self._hold]
                if kept is None and self._guards[row]:
                    ready = ready[: settled_until(text)]
                self._send(row, ready.rstrip("\ufffd"))
        return self._flags(self._done, input_ids)

    def _flags(self, done: list[bool], input_ids: Any) -> Any:
        return self._torch.tensor(done, dtype=self._torch.bool, device=input_ids.device)

    def _send(self, row: int, ready: str) -> None:
        # Decoding more tokens can rewrite the end of earlier text; only growth is sent.
        if len(ready) > len(self._sent[row]) and ready.startswith(self._sent[row]):
            piece, self._sent[row] = ready[len(self._sent[row]) :], ready
            assert self._on_token is not None
            self._on_token(self._indexes[row], piece)

    def flush(self, row: int, text: str) -> None:
        """Send what the final text adds to what was streamed, so the pieces add up to it."""
        if self._on_token is not None:
            self._send(row, text)

    def timed(self, row: int, completion: Completion, submitted: float, ended: float) -> Completion:
        """The completion with its timings: the prompt pass is shared by the batch; a row
        that stopped early stops its clock then."""
        first = self.first_step if self.first_step is not None else ended
        last = self._row_ended[row] or ended
        return completion.model_copy(
            update={
                "queue_seconds": self.admitted - submitted,
                "first_token_seconds": first - submitted if completion.completion_tokens else None,
                "prefill_seconds": first - self.admitted,
                "decode_seconds": last - first,
                "seconds": last - self.admitted,
            }
        )


def ended_text(text: str, stops: Sequence[str], guard: bool) -> str | None:
    """The row's text up to its first stop string, or to where it starts to loop (without
    the spaces before the loop); None while it goes on."""
    cuts = [text.find(stop) for stop in stops if stop in text]
    loop = loop_start(text) if guard else None
    if loop is not None and (not cuts or loop <= min(cuts)):
        return text[:loop].rstrip()
    return text[: min(cuts)] if cuts else None
