"""One run from question to answer: read the question, retrieve, run the strategy, finish.

The pipeline holds nothing of a single run, so one instance serves every caller of a
runtime at once; each run gets its own id, blackboard, cancellation handle and context.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from murmurnet.blackboard import BlackboardFactory
from murmurnet.cancellation import Cancellation
from murmurnet.config import RunConfig
from murmurnet.errors import CancelledError, InputError, ModelFileError, ModelPackageMissingError
from murmurnet.events import (
    EntryWritten,
    EventBus,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
)
from murmurnet.memory import Turn
from murmurnet.models.base import Backend
from murmurnet.models.registry import ModelPool
from murmurnet.murmur.context import TASK_RESERVE, RunContext, TokenSink
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.strategies import StageModels, get_strategy
from murmurnet.options import listed_options
from murmurnet.question import read_question
from murmurnet.roles import assign_roles
from murmurnet.types import Answer, BlackboardEntry, EntryKind

log = logging.getLogger(__name__)

HISTORY_TURNS = 4


class Pipeline:
    def __init__(self, pool: ModelPool, blackboard: BlackboardFactory, bus: EventBus) -> None:
        self.pool = pool
        self.blackboard = blackboard
        self.bus = bus
        self._kbs: dict[str, Any] = {}
        self._kb_lock = threading.Lock()

    def run(
        self,
        config: RunConfig,
        question_text: str,
        history: Sequence[Turn] = (),
        on_token: TokenSink | None = None,
        cancel: Cancellation | None = None,
        run_id: str | None = None,
    ) -> Answer:
        """Answer one question; every outcome (answer, error, cancel) is also an event."""
        run_id = run_id or uuid.uuid4().hex[:16]
        cancel = cancel or Cancellation()
        try:
            answer = self._run(config, question_text, history, on_token, cancel, run_id)
        except CancelledError:
            self.bus.publish(RunCancelled(run_id=run_id, reason=cancel.reason or "cancelled"))
            raise
        except BaseException as exc:
            if cancel.cancelled:
                self.bus.publish(RunCancelled(run_id=run_id, reason=cancel.reason))
            else:
                error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                self.bus.publish(
                    RunFailed(run_id=run_id, error=error, error_type=type(exc).__name__)
                )
            raise
        self.bus.publish(
            RunFinished(run_id=run_id, answer=answer.text, seconds=answer.total_seconds)
        )
        return answer

    def _run(
        self,
        cfg: RunConfig,
        question_text: str,
        history: Sequence[Turn],
        on_token: TokenSink | None,
        cancel: Cancellation,
        run_id: str,
    ) -> Answer:
        started = time.perf_counter()
        question = read_question(question_text, "auto")
        language = question.language if cfg.language == "auto" else cfg.language
        strategy = get_strategy(cfg.strategy)
        if cfg.kb and cfg.rag:
            self._knowledge_base(cfg, cfg.kb)  # an unknown name fails before any model loads
        self.bus.publish(
            RunStarted(
                run_id=run_id,
                question=question.text,
                strategy=cfg.strategy,
                language=language,
                question_type=question.kind,
            )
        )

        def published(entry: BlackboardEntry) -> None:
            self.bus.publish(EntryWritten(run_id=run_id, entry=entry))

        ctx = RunContext(
            run_id=run_id,
            config=cfg,
            question=question,
            language=language,
            texts=stage_texts(question.language),
            roles=assign_roles(cfg, question.kind, question.language),
            board=self.blackboard(run_id, [published]),
            bus=self.bus,
            cancel=cancel,
        )
        ctx.stage_seconds["input"] = time.perf_counter() - started
        tick = time.perf_counter()
        models = StageModels(
            internal=self.pool.get(cfg.model_for("internal")),
            summary=self.pool.get(cfg.model_for("summary")) if cfg.summary else None,
            output=self.pool.get(cfg.model_for("output")),
            choice=(
                self._choice_scorer(cfg)
                if cfg.strategy == "murmur" and listed_options(question.text)
                else None
            ),
        )
        if (load := time.perf_counter() - tick) > 0.01:
            ctx.stage_seconds["load"] = load
        _check_fits(models.internal, question.text, cfg.internal_tokens)
        recent = history[-HISTORY_TURNS:]
        ctx.history = _fitting(models.internal, recent, question.text, cfg)
        ctx.board.write(EntryKind.QUESTION, question.text)
        for turn in recent:
            ctx.board.write(EntryKind.HISTORY, f"Q: {turn.question}\nA: {turn.answer}")
        if cfg.kb and cfg.rag:
            self._retrieve(ctx, cfg.kb)
        text = strategy(ctx, models, on_token)
        ctx.board.write(EntryKind.FINAL, text)
        return Answer(
            run_id=run_id,
            text=text,
            strategy=cfg.strategy,
            language=language,
            question_type=question.kind,
            entries=ctx.board.entries(),
            timings=ctx.timings,
            stage_seconds=ctx.stage_seconds,
            total_seconds=time.perf_counter() - started,
        )

    def _choice_scorer(self, cfg: RunConfig) -> Backend:
        """The model that ranks listed options. The bundled base model is the default only
        where the pool holds it (Ray deploys it) or loads it beside the bundled model, and
        while it is installed: otherwise the agents' model ranks them."""
        name = cfg.model_for("choice")
        if cfg.choice_model is not None or self.pool.supplied(name):
            return self.pool.get(name)
        if self.pool.supplied(cfg.model_for("internal")):
            return self.pool.get(cfg.model_for("internal"))
        try:
            return self.pool.get(name)
        except (ModelPackageMissingError, ModelFileError) as error:
            log.warning("options ranked by the agents' model: %s", error)
            return self.pool.get(cfg.model_for("internal"))

    def _knowledge_base(self, cfg: RunConfig, name: str) -> Any:
        with self._kb_lock:
            if name not in self._kbs:
                from murmurnet.rag import KnowledgeBase

                self._kbs[name] = KnowledgeBase.open(name, cfg.cache_folder)
            return self._kbs[name]

    def _retrieve(self, ctx: RunContext, name: str) -> None:
        """Top passages onto the blackboard, numbered [1], [2]… in the order they are cited."""
        tick = time.perf_counter()
        found = self._knowledge_base(ctx.config, name).search(ctx.question.text, k=ctx.config.top_k)
        for passage in found:
            ctx.board.write(EntryKind.PASSAGE, passage.text.strip(), source=passage.source)
        ctx.stage_seconds["retrieve"] = time.perf_counter() - tick


def _fitting(backend: Backend, turns: Sequence[Turn], question: str, cfg: RunConfig) -> list[Turn]:
    """The latest turns that fit before the question with room for the longest direct
    answer; the blackboard's notes fit theirs by their own budget."""
    room = backend.context_size - cfg.answer_tokens - 2 * TASK_RESERVE
    room -= backend.count_tokens(question)
    kept: list[Turn] = []
    for turn in reversed(turns):
        room -= backend.count_tokens(turn.question) + backend.count_tokens(turn.answer)
        if room < 0:
            break
        kept.insert(0, turn)
    return kept


def _check_fits(backend: Backend, question: str, reply_tokens: int) -> None:
    tokens = backend.count_tokens(question)
    room = backend.context_size - reply_tokens - 2 * TASK_RESERVE
    if tokens > room:
        raise InputError(
            f"the question is too long: {tokens} tokens, but only {room} fit the "
            f"model's {backend.context_size}-token context",
            hint="shorten the question or raise --context-size",
        )
