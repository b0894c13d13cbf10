"""The Python entry points: a `Runtime` shared by every caller, and `Session`s on it.

A runtime owns what is expensive and shareable — the loaded models, the pipeline, the
event bus — and is safe to use from many threads at once (the llama.cpp engine batches
concurrent runs together). A session is one conversation on it. `MurmurNet` is the
shortcut for a script that needs one of each.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from murmurnet.blackboard import BlackboardFactory, in_memory
from murmurnet.cancellation import Cancellation
from murmurnet.config import RunConfig, first_error
from murmurnet.errors import ConfigError
from murmurnet.events import EventBus, JsonlLog, Subscriber, Subscription
from murmurnet.memory import Conversation, Turn
from murmurnet.models.base import Backend
from murmurnet.models.registry import ModelPool
from murmurnet.murmur.context import TokenSink
from murmurnet.murmur.pipeline import Pipeline
from murmurnet.types import Answer


class RunHandle:
    """A run started in the background: its id, its cancellation, its result."""

    def __init__(self, run_id: str, cancel: Cancellation) -> None:
        self.id = run_id
        self._cancel = cancel
        self._future: Future[Answer] = Future()

    def cancel(self, reason: str = "cancelled by the caller") -> None:
        self._cancel.cancel(reason)

    @property
    def future(self) -> Future[Answer]:
        """The answer's future, for callers that wait without blocking a thread."""
        return self._future

    @property
    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> Answer:
        """The answer, or the run's error (`CancelledError` after `cancel`)."""
        return self._future.result(timeout)


class Runtime:
    """Models, pipeline and events shared by every session and every thread.

    `backends` maps model names to ready backends (a `ScriptedBackend` in tests); the
    name "default" is the model every stage uses unless the config names others.
    `blackboard` makes each run's board (in memory unless another store is given); the
    runtime owns it from then on, and closes it on `close()` if it has a `close`.
    """

    def __init__(
        self,
        config: RunConfig | None = None,
        *,
        backends: Mapping[str, Backend] | None = None,
        blackboard: BlackboardFactory = in_memory,
        subscribers: Iterable[Subscriber] = (),
    ) -> None:
        self.config = config or RunConfig()
        self.pool = ModelPool(self.config, backends)
        self.bus = EventBus()
        self._log = JsonlLog(self.config.log) if self.config.log is not None else None
        if self._log is not None:
            self.bus.subscribe(self._log)
        for subscriber in subscribers:
            self.bus.subscribe(subscriber)
        self._blackboard = blackboard
        self.pipeline = Pipeline(self.pool, blackboard, self.bus)

    def subscribe(self, subscriber: Subscriber) -> Subscription:
        """Follow every run's events; delivery happens on the subscriber's own thread."""
        return self.bus.subscribe(subscriber)

    def run(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        on_token: TokenSink | None = None,
        cancel: Cancellation | None = None,
        run_id: str | None = None,
        **overrides: Any,
    ) -> Answer:
        """Answer one question in the calling thread; `overrides` change settings for this
        run only (e.g. `strategy="single"`), never the models."""
        config = self.config
        if overrides:  # validated as a whole: a rule may tie an override to another setting
            try:
                config = RunConfig.model_validate({**config.model_dump(), **overrides})
            except ValidationError as exc:
                key, message = first_error(exc)
                raise ConfigError(f"invalid {key or 'settings'} for this run: {message}") from None
        return self.pipeline.run(config, question, history, on_token, cancel, run_id)

    def start(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        on_token: TokenSink | None = None,
        **overrides: Any,
    ) -> RunHandle:
        """Start a run on its own thread and return at once with its handle."""
        cancel = Cancellation()
        handle = RunHandle(uuid.uuid4().hex[:16], cancel)

        def work() -> None:
            try:
                answer = self.run(
                    question,
                    history=history,
                    on_token=on_token,
                    cancel=cancel,
                    run_id=handle.id,
                    **overrides,
                )
            except BaseException as exc:
                handle._future.set_exception(exc)
            else:
                handle._future.set_result(answer)

        threading.Thread(target=work, name=f"murmurnet-run-{handle.id}", daemon=True).start()
        return handle

    def session(self, conversation: Conversation | None = None) -> Session:
        return Session(self, conversation)

    def close(self) -> None:
        self.bus.close()
        self.pool.close()
        # A store such as Redis holds connections; the core names no store, so it asks.
        close_store = getattr(self._blackboard, "close", None)
        if callable(close_store):
            close_store()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Session:
    """One conversation on a shared runtime; its turns are asked one at a time."""

    def __init__(self, runtime: Runtime, conversation: Conversation | None = None) -> None:
        self.runtime = runtime
        self.conversation = conversation if conversation is not None else Conversation()
        self._lock = threading.Lock()

    def ask(
        self,
        question: str,
        on_token: TokenSink | None = None,
        cancel: Cancellation | None = None,
        **overrides: Any,
    ) -> Answer:
        """Answer one question; earlier turns of this conversation reach the blackboard."""
        with self._lock:
            answer = self.runtime.run(
                question,
                history=list(self.conversation.turns),
                on_token=on_token,
                cancel=cancel,
                **overrides,
            )
            self.conversation.add(question.strip(), answer.text)
            return answer


class MurmurNet:
    """A runtime with one session: `with MurmurNet(RunConfig(...)) as net: net.ask("…")`."""

    def __init__(
        self,
        config: RunConfig | None = None,
        *,
        backends: Mapping[str, Backend] | None = None,
        conversation: Conversation | None = None,
    ) -> None:
        self.runtime = Runtime(config, backends=backends)
        self.session = self.runtime.session(conversation)

    @property
    def config(self) -> RunConfig:
        return self.runtime.config

    @property
    def conversation(self) -> Conversation:
        return self.session.conversation

    def ask(
        self,
        question: str,
        on_token: TokenSink | None = None,
        cancel: Cancellation | None = None,
    ) -> Answer:
        return self.session.ask(question, on_token, cancel)

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> MurmurNet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
