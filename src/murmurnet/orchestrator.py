"""The murmur: R rounds of N agents on a shared blackboard, a summary per round, an output.

Every round goes to the backend as one batch (unless `parallel` is off or the backend
cannot batch), because a batching backend turns N agents into little more than one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from murmurnet.blackboard import InMemoryBlackboard, render
from murmurnet.config import RunConfig
from murmurnet.errors import InputError
from murmurnet.memory import Turn
from murmurnet.models.base import Backend
from murmurnet.models.registry import ModelPool
from murmurnet.question import Language, read_question
from murmurnet.roles import assign_roles
from murmurnet.stage_prompts import (
    StageTexts,
    agent_messages,
    output_messages,
    stage_texts,
    summary_messages,
)
from murmurnet.types import Answer, Completion, EntryKind, GenerationRequest, StageTiming

EventSink = Callable[[dict[str, Any]], None]
_TASK_RESERVE = 200  # tokens kept free for the stage task text after the notes
_HISTORY_TURNS = 4


class Orchestrator:
    def __init__(self, config: RunConfig, pool: ModelPool, events: EventSink | None = None):
        self.config = config
        self.pool = pool
        self._emit: EventSink = events or (lambda event: None)

    def run(
        self,
        question_text: str,
        history: Sequence[Turn] = (),
        on_answer_token: Callable[[str], None] | None = None,
    ) -> Answer:
        cfg = self.config
        started = time.perf_counter()
        question = read_question(question_text, "auto")
        answer_language: Language = question.language if cfg.language == "auto" else cfg.language
        texts = stage_texts(question.language)
        roles = assign_roles(cfg, question.kind, question.language)
        titles = {role.name: role.spec.title for role in roles}
        stage_seconds = {"input": time.perf_counter() - started}
        tick = time.perf_counter()
        internal = self.pool.get(cfg.model_for("internal"))
        summary_backend = self.pool.get(cfg.model_for("summary")) if cfg.summary else None
        output_backend = self.pool.get(cfg.model_for("output"))
        if (load := time.perf_counter() - tick) > 0.01:
            stage_seconds["load"] = load
        self._check_fits(internal, question.text, cfg.internal_tokens)

        board = InMemoryBlackboard(listeners=[self._log_write])
        board.write(EntryKind.QUESTION, question.text)
        for turn in history[-_HISTORY_TURNS:]:
            board.write(EntryKind.HISTORY, f"Q: {turn.question}\nA: {turn.answer}")
        timings: list[StageTiming] = []

        def notes(backend: Backend, reply_tokens: int) -> str:
            budget = backend.context_size - reply_tokens - _TASK_RESERVE
            return render(board, texts.labels, budget, backend.count_tokens, titles)

        for round_number in range(1, cfg.iterations + 1):
            stage = f"round {round_number}"
            shared = notes(internal, cfg.internal_tokens)
            requests = [
                GenerationRequest(
                    messages=agent_messages(texts, shared, role.spec, question.text),
                    max_tokens=cfg.internal_tokens,
                    temperature=cfg.internal_temp
                    if role.spec.temperature is None
                    else role.spec.temperature,
                    seed=None if cfg.seed is None else cfg.seed + 1000 * round_number + index,
                    tag=f"{stage}/agent {index + 1}",
                )
                for index, role in enumerate(roles)
            ]
            tick = time.perf_counter()
            replies = self._generate(internal, requests, stage)
            stage_seconds[stage] = time.perf_counter() - tick
            for index, (role, reply) in enumerate(zip(roles, replies, strict=True)):
                board.write(
                    EntryKind.CONTRIBUTION,
                    reply.text.strip(),
                    round=round_number,
                    agent=index + 1,
                    role=role.name,
                )
                timings.append(_timing(stage, reply, index + 1, role.name))
            if summary_backend is not None:
                self._summarise(
                    summary_backend, board, texts, notes, round_number, timings, stage_seconds
                )

        request = GenerationRequest(
            messages=output_messages(
                texts, notes(output_backend, cfg.output_tokens), question.text, answer_language
            ),
            max_tokens=cfg.output_tokens,
            temperature=cfg.output_temp,
            seed=cfg.seed,
            tag="output",
        )
        tick = time.perf_counter()
        stream = None if on_answer_token is None else (lambda _i, piece: on_answer_token(piece))
        reply = output_backend.generate([request], on_token=stream)[0]
        stage_seconds["output"] = time.perf_counter() - tick
        self._log_call("output", request, reply)
        timings.append(_timing("output", reply))
        text = reply.text.strip() or _fallback(board)
        board.write(EntryKind.FINAL, text)
        return Answer(
            text=text,
            language=answer_language,
            question_type=question.kind,
            entries=board.entries(),
            timings=timings,
            stage_seconds=stage_seconds,
            total_seconds=time.perf_counter() - started,
        )

    def _summarise(
        self,
        backend: Backend,
        board: InMemoryBlackboard,
        texts: StageTexts,
        notes: Callable[[Backend, int], str],
        round_number: int,
        timings: list[StageTiming],
        stage_seconds: dict[str, float],
    ) -> None:
        cfg = self.config
        stage = f"summary {round_number}"
        request = GenerationRequest(
            messages=summary_messages(texts, notes(backend, cfg.summary_tokens), round_number),
            max_tokens=cfg.summary_tokens,
            temperature=cfg.summary_temp,
            seed=cfg.seed,
            tag=stage,
        )
        tick = time.perf_counter()
        reply = backend.generate([request])[0]
        stage_seconds[stage] = time.perf_counter() - tick
        self._log_call(stage, request, reply)
        board.write(EntryKind.SUMMARY, reply.text.strip(), round=round_number)
        timings.append(_timing(stage, reply))

    def _generate(
        self, backend: Backend, requests: list[GenerationRequest], stage: str
    ) -> list[Completion]:
        if self.config.parallel and backend.can_batch:
            replies = backend.generate(requests)
        else:
            replies = [backend.generate([request])[0] for request in requests]
        for request, reply in zip(requests, replies, strict=True):
            self._log_call(stage, request, reply)
        return replies

    def _check_fits(self, backend: Backend, question: str, reply_tokens: int) -> None:
        tokens = backend.count_tokens(question)
        room = backend.context_size - reply_tokens - 2 * _TASK_RESERVE
        if tokens > room:
            raise InputError(
                f"the question is too long: {tokens} tokens, but only {room} fit the "
                f"model's {backend.context_size}-token context",
                hint="shorten the question or raise --context-size",
            )

    def _log_write(self, entry: Any) -> None:
        self._emit({"event": "write", **entry.model_dump(mode="json")})

    def _log_call(self, stage: str, request: GenerationRequest, reply: Completion) -> None:
        self._emit(
            {
                "event": "model_call",
                "stage": stage,
                "tag": request.tag,
                "temperature": request.temperature,
                "max_tokens": request.max_tokens,
                "prompt_tokens": reply.prompt_tokens,
                "cached_tokens": reply.cached_tokens,
                "completion_tokens": reply.completion_tokens,
                "seconds": round(reply.seconds, 4),
                "finish_reason": reply.finish_reason,
                "time": time.time(),
            }
        )


def _timing(
    stage: str, reply: Completion, agent: int | None = None, role: str | None = None
) -> StageTiming:
    return StageTiming(
        stage=stage,
        agent=agent,
        role=role,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        cached_tokens=reply.cached_tokens,
        seconds=reply.seconds,
    )


def _fallback(board: InMemoryBlackboard) -> str:
    """If the output agent said nothing, the last summary or contribution is the best reply."""
    for entry in reversed(board.entries()):
        if entry.kind in (EntryKind.SUMMARY, EntryKind.CONTRIBUTION) and entry.text:
            return entry.text
    return ""
