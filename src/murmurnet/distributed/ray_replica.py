"""One model replica of `serve --ray`: a loaded model behind Ray Serve's calls.

This is a plain class; `ray_app` makes it a Serve deployment, so it is tested and read
without Ray. Every method is async and runs the blocking backend on a thread: Serve then
hands one replica several rounds at once (up to `max_ongoing_requests`), and the batched
engine puts them in one running batch, which is the point of a replica holding the model.

Errors the user can fix (`MurmurError`) come back as a `Failure` value, not a raised
exception: Ray would wrap a raised one in its own type and drop its hint, and the caller
must tell "the replica died" (retry elsewhere) from "the request is wrong" (do not).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from murmurnet import errors
from murmurnet.cancellation import Cancellation
from murmurnet.config import ModelSpec
from murmurnet.models.base import Backend, LikelihoodScorer
from murmurnet.models.registry import LoadOptions, create_backend
from murmurnet.types import Completion, ContinuationScore, GenerationRequest, Message


@dataclass(frozen=True)
class Failure:
    """A `MurmurError` raised in the replica, by its class name, to raise again in the
    caller's process with the same type, message and hint."""

    kind: str
    message: str
    hint: str | None = None

    @classmethod
    def of(cls, exc: errors.MurmurError) -> Failure:
        return cls(type(exc).__name__, exc.message, exc.hint)

    def error(self) -> errors.MurmurError:
        kind = getattr(errors, self.kind, None)
        if not (isinstance(kind, type) and issubclass(kind, errors.MurmurError)):
            kind = errors.BackendFailedError
        return kind(self.message, self.hint)


@dataclass(frozen=True)
class ModelInfo:
    """What the caller's `Backend` needs to know about the model without loading it."""

    name: str
    can_batch: bool
    context_size: int
    can_score: bool
    is_chat: bool = True
    """Whether a scoring model reads a chat template (False: a base model's document)."""


Piece = tuple[int, str]
"""Streamed text of request `index` in the batch."""
Streamed = tuple[str, Any]
"""One message of `generate_stream`: its kind ("pieces", "done", "failed") and value."""


class ModelReplica:
    """One loaded instance of one model; `spec` and `options` say which and how."""

    def __init__(
        self,
        spec: ModelSpec,
        options: LoadOptions,
        factory: Callable[[ModelSpec, LoadOptions], Backend] = create_backend,
    ) -> None:
        self.backend = factory(spec, options)

    async def info(self) -> ModelInfo:
        b = self.backend
        if isinstance(b, LikelihoodScorer):
            return ModelInfo(b.name, b.can_batch, b.context_size, True, b.is_chat)
        return ModelInfo(b.name, b.can_batch, b.context_size, False)

    async def where(self) -> dict[str, Any]:
        """This replica's process and node, so tests and operators can find it."""
        node = ""
        with contextlib.suppress(ImportError, RuntimeError):
            import ray

            node = ray.get_runtime_context().get_node_id()
        return {"pid": os.getpid(), "node_id": node}

    async def generate(self, requests: list[GenerationRequest]) -> list[Completion] | Failure:
        """The whole batch at once: what a round sends when nothing streams."""
        cancel = Cancellation()
        try:
            return await asyncio.to_thread(self.backend.generate, requests, None, cancel)
        except errors.MurmurError as exc:
            return Failure.of(exc)
        except asyncio.CancelledError:  # the caller cancelled: stop the model too
            cancel.cancel("cancelled by the caller")
            raise

    async def generate_stream(self, requests: list[GenerationRequest]) -> AsyncIterator[Streamed]:
        """("pieces", [(index, text), ...]) as the model makes them, then ("done",
        completions) or ("failed", Failure).

        Pieces that arrive together go out as one message: one Ray message per token would
        cost more than the token."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancel = Cancellation()

        def on_token(index: int, piece: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, ("piece", (index, piece)))

        def work() -> None:
            try:
                done: Any = self.backend.generate(requests, on_token, cancel)
            except errors.MurmurError as exc:
                done = Failure.of(exc)
            except BaseException as exc:
                loop.call_soon_threadsafe(queue.put_nowait, ("crash", exc))
                return
            loop.call_soon_threadsafe(queue.put_nowait, ("done", done))

        threading.Thread(target=work, name="murmurnet-replica", daemon=True).start()
        kind = "piece"
        try:
            while True:
                kind, item = await queue.get()
                pieces: list[Piece] = []
                while kind == "piece":
                    pieces.append(item)
                    if queue.empty():
                        break
                    kind, item = queue.get_nowait()
                if pieces:
                    yield ("pieces", pieces)
                if kind == "crash":
                    raise item
                if kind == "done":
                    yield ("failed" if isinstance(item, Failure) else "done", item)
                    return
        finally:
            if kind != "done":  # the caller stopped reading, or cancelled
                cancel.cancel("cancelled by the caller")

    async def score(
        self, messages: Sequence[Message], continuations: Sequence[str]
    ) -> list[ContinuationScore] | Failure:
        if not isinstance(self.backend, LikelihoodScorer):
            return Failure("UnsupportedError", f"model {self.backend.name!r} cannot score")
        scorer = self.backend
        cancel = Cancellation()
        try:
            return await asyncio.to_thread(scorer.score, messages, continuations, cancel)
        except errors.MurmurError as exc:
            return Failure.of(exc)
        except asyncio.CancelledError:
            cancel.cancel("cancelled by the caller")
            raise

    async def count_tokens(self, texts: list[str]) -> list[int]:
        return [self.backend.count_tokens(text) for text in texts]

    def __del__(self) -> None:
        backend = getattr(self, "backend", None)
        if backend is not None:
            backend.close()
