"""The murmur: R rounds of N agents on a shared blackboard, a summary per round, an
optional agreement among the agents, then an output agent — or one of the baselines
(`single`, `self-consistency`) the murmur is measured against.

Every round goes to the backend as one batch (unless `parallel` is off or the backend
cannot batch), because a batching backend turns N agents into little more than one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from murmurnet.blackboard import InMemoryBlackboard, render
from murmurnet.config import RunConfig
from murmurnet.errors import InputError
from murmurnet.memory import Turn
from murmurnet.models.base import Backend
from murmurnet.models.registry import ModelPool
from murmurnet.murmur import agreement
from murmurnet.murmur.prompts import (
    StageTexts,
    agent_messages,
    approval_messages,
    output_messages,
    single_messages,
    stage_texts,
    summary_messages,
)
from murmurnet.question import Language, Question, read_question
from murmurnet.roles.assignment import Role, assign_roles
from murmurnet.tools.calculator import CalculatorError, program_in, run_program
from murmurnet.types import Answer, Completion, EntryKind, GenerationRequest, StageTiming

EventSink = Callable[[dict[str, Any]], None]
TokenSink = Callable[[str], None]
_TASK_RESERVE = 200  # tokens kept free for the stage task text after the notes
_HISTORY_TURNS = 4
_APPROVAL_TOKENS = 40
SHORT_ANSWER_KINDS = frozenset({"calculation", "exact"})
"""Question types with one checkable answer: once a majority of agents gives the same
answer, further rounds only cost time, and a summary helps only a round that follows it."""


@dataclass
class _Run:
    """Everything one answer's stages share."""

    question: Question
    language: Language
    texts: StageTexts
    roles: list[Role]
    board: InMemoryBlackboard
    started: float
    timings: list[StageTiming] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def notes(self, backend: Backend, reply_tokens: int) -> str:
        budget = backend.context_size - reply_tokens - _TASK_RESERVE
        titles = {role.name: role.spec.title for role in self.roles}
        return render(self.board, self.texts.labels, budget, backend.count_tokens, titles)


class Orchestrator:
    def __init__(self, config: RunConfig, pool: ModelPool, events: EventSink | None = None):
        self.config = config
        self.pool = pool
        self._emit: EventSink = events or (lambda event: None)
        self._kbs: dict[str, Any] = {}

    def run(
        self,
        question_text: str,
        history: Sequence[Turn] = (),
        on_answer_token: TokenSink | None = None,
    ) -> Answer:
        cfg = self.config
        started = time.perf_counter()
        question = read_question(question_text, "auto")
        run = _Run(
            question=question,
            language=question.language if cfg.language == "auto" else cfg.language,
            texts=stage_texts(question.language),
            roles=assign_roles(cfg, question.kind, question.language),
            board=InMemoryBlackboard(listeners=[self._log_write]),
            started=started,
        )
        if cfg.kb and cfg.rag:
            self._knowledge_base(cfg.kb)  # an unknown name fails before any model loads
        run.stage_seconds["input"] = time.perf_counter() - started
        tick = time.perf_counter()
        internal = self.pool.get(cfg.model_for("internal"))
        summary = self.pool.get(cfg.model_for("summary")) if cfg.summary else None
        output = self.pool.get(cfg.model_for("output"))
        if (load := time.perf_counter() - tick) > 0.01:
            run.stage_seconds["load"] = load
        self._check_fits(internal, question.text, cfg.internal_tokens)
        run.board.write(EntryKind.QUESTION, question.text)
        for turn in history[-_HISTORY_TURNS:]:
            run.board.write(EntryKind.HISTORY, f"Q: {turn.question}\nA: {turn.answer}")
        if cfg.kb and cfg.rag:
            self._retrieve(run, cfg.kb)

        if cfg.strategy == "single":
            return self._single(run, output, on_answer_token)
        if cfg.strategy == "self-consistency":
            return self._self_consistency(run, internal)
        answers: list[str] = []
        short = question.kind in SHORT_ANSWER_KINDS
        for round_number in range(1, cfg.iterations + 1):
            answers = self._round(run, internal, round_number)
            last = round_number == cfg.iterations or (short and _majority(answers))
            if summary is not None and not (short and last):
                self._summarise(run, summary, round_number)
            if last:
                break
        if cfg.consensus != "none" and (committed := self._agree(run, internal, answers)):
            return self._finish(run, _with_sources(run, committed.strip(), on_answer_token))
        return self._output(run, output, on_answer_token)

    # -- stages ---------------------------------------------------------------------------

    def _knowledge_base(self, name: str) -> Any:
        if name not in self._kbs:
            from murmurnet.rag import KnowledgeBase

            self._kbs[name] = KnowledgeBase.open(name, self.config.cache_folder)
        return self._kbs[name]

    def _retrieve(self, run: _Run, name: str) -> None:
        """Top passages onto the blackboard, numbered [1], [2]… in the order they are cited."""
        tick = time.perf_counter()
        for passage in self._knowledge_base(name).search(run.question.text, k=self.config.top_k):
            run.board.write(EntryKind.PASSAGE, passage.text.strip(), source=passage.source)
        run.stage_seconds["retrieve"] = time.perf_counter() - tick

    def _round(self, run: _Run, backend: Backend, round_number: int) -> list[str]:
        cfg = self.config
        stage = f"round {round_number}"
        shared = run.notes(backend, cfg.internal_tokens)
        requests = [
            GenerationRequest(
                messages=agent_messages(run.texts, shared, role.spec, run.question.text),
                max_tokens=cfg.internal_tokens,
                temperature=cfg.internal_temp
                if role.spec.temperature is None
                else role.spec.temperature,
                seed=None if cfg.seed is None else cfg.seed + 1000 * round_number + index,
                tag=f"{stage}/agent {index + 1}",
            )
            for index, role in enumerate(run.roles)
        ]
        replies = self._generate(run, backend, requests, stage)
        answers = []
        for index, (role, reply) in enumerate(zip(run.roles, replies, strict=True)):
            text = reply.text.strip()
            if role.spec.tool == "python":
                text = _with_program_output(run.texts, text)
            run.board.write(
                EntryKind.CONTRIBUTION, text, round=round_number, agent=index + 1, role=role.name
            )
            run.timings.append(_timing(stage, reply, index + 1, role.name))
            answers.append(text)
        return answers

    def _summarise(self, run: _Run, backend: Backend, round_number: int) -> None:
        cfg = self.config
        stage = f"summary {round_number}"
        request = GenerationRequest(
            messages=summary_messages(
                run.texts, run.notes(backend, cfg.summary_tokens), round_number
            ),
            max_tokens=cfg.summary_tokens,
            temperature=cfg.summary_temp,
            seed=cfg.seed,
            tag=stage,
        )
        reply = self._generate(run, backend, [request], stage)[0]
        run.board.write(EntryKind.SUMMARY, reply.text.strip(), round=round_number)
        run.timings.append(_timing(stage, reply))

    def _agree(self, run: _Run, backend: Backend, answers: list[str]) -> str | None:
        """Run the chosen agreement protocol; approvals are one batched call per term.

        A committed answer is the reply (the majority wins); without agreement the output
        agent decides, as it does for a tie.
        """
        protocol = agreement.Protocol(self.config.consensus)
        terms = 0

        def approve(proposer: int, proposal: str) -> list[bool]:
            nonlocal terms
            terms += 1
            stage = f"agreement {terms}"
            shared = run.notes(backend, _APPROVAL_TOKENS)
            requests = [
                GenerationRequest(
                    messages=approval_messages(
                        run.texts, shared, role.spec, proposer, proposal, run.question.text
                    ),
                    max_tokens=_APPROVAL_TOKENS,
                    temperature=0.0,
                    tag=f"{stage}/agent {index + 1}",
                )
                for index, role in enumerate(run.roles)
            ]
            replies = self._generate(run, backend, requests, stage)
            run.timings.extend(_timing(stage, r, i + 1) for i, r in enumerate(replies))
            return [agreement.parse_approval(r.text) for r in replies]

        if protocol is agreement.Protocol.VOTE:
            result = agreement.vote(answers)
        elif protocol is agreement.Protocol.LEADER:
            result = agreement.leader(answers, approve)
        else:
            result = agreement.bft(answers, approve)
        text = (result.committed or "").strip() or "-"
        run.board.write(
            EntryKind.AGREEMENT,
            text,
            role=protocol.value,
            agent=result.supporters,
            source="; ".join(result.log),
        )
        return result.committed

    def _output(self, run: _Run, backend: Backend, on_token: TokenSink | None) -> Answer:
        cfg = self.config
        request = GenerationRequest(
            messages=output_messages(
                run.texts,
                run.notes(backend, cfg.output_tokens),
                run.question.text,
                run.language,
                cite=bool(run.board.entries(EntryKind.PASSAGE)),
            ),
            max_tokens=cfg.output_tokens,
            temperature=cfg.output_temp,
            seed=cfg.seed,
            stop=_echo_stops(run.texts),
            tag="output",
        )
        reply = self._generate(run, backend, [request], "output", on_token)[0]
        run.timings.append(_timing("output", reply))
        text = reply.text.strip() or _fallback(run.board)
        return self._finish(run, _with_sources(run, text, on_token, streamed=True))

    def _single(self, run: _Run, backend: Backend, on_token: TokenSink | None) -> Answer:
        cfg = self.config
        request = GenerationRequest(
            messages=single_messages(
                run.texts, run.question.text, _documents(run, backend, cfg.output_tokens)
            ),
            max_tokens=cfg.output_tokens,
            temperature=cfg.output_temp,
            seed=cfg.seed,
            tag="single",
        )
        reply = self._generate(run, backend, [request], "output", on_token)[0]
        run.timings.append(_timing("output", reply))
        return self._finish(run, reply.text.strip(), "single")

    def _self_consistency(self, run: _Run, backend: Backend) -> Answer:
        """N independent samples and a majority vote, with the murmur's token budget."""
        cfg = self.config
        samples = max(2, round(murmur_token_budget(cfg) / cfg.output_tokens))
        documents = _documents(run, backend, cfg.output_tokens)
        requests = [
            GenerationRequest(
                messages=single_messages(run.texts, run.question.text, documents),
                max_tokens=cfg.output_tokens,
                temperature=max(cfg.internal_temp, 0.3),
                seed=None if cfg.seed is None else cfg.seed + index,
                tag=f"sample {index + 1}",
            )
            for index in range(samples)
        ]
        replies = self._generate(run, backend, requests, "samples")
        for index, reply in enumerate(replies):
            run.board.write(EntryKind.CONTRIBUTION, reply.text.strip(), round=1, agent=index + 1)
            run.timings.append(_timing("samples", reply, index + 1))
        result = agreement.vote([r.text for r in replies])
        chosen = result.committed if result.committed is not None else replies[0].text
        run.board.write(EntryKind.AGREEMENT, chosen.strip(), role="vote", agent=result.supporters)
        return self._finish(run, chosen.strip(), "self-consistency")

    # -- plumbing -------------------------------------------------------------------------

    def _finish(self, run: _Run, text: str, strategy: str = "murmur") -> Answer:
        run.board.write(EntryKind.FINAL, text)
        return Answer(
            text=text,
            strategy=strategy,
            language=run.language,
            question_type=run.question.kind,
            entries=run.board.entries(),
            timings=run.timings,
            stage_seconds=run.stage_seconds,
            total_seconds=time.perf_counter() - run.started,
        )

    def _generate(
        self,
        run: _Run,
        backend: Backend,
        requests: list[GenerationRequest],
        stage: str,
        on_token: TokenSink | None = None,
    ) -> list[Completion]:
        tick = time.perf_counter()
        stream = None if on_token is None else (lambda _index, piece: on_token(piece))
        if len(requests) == 1 or (self.config.parallel and backend.can_batch):
            replies = backend.generate(requests, on_token=stream)
        else:
            replies = [backend.generate([request])[0] for request in requests]
        run.stage_seconds[stage] = run.stage_seconds.get(stage, 0.0) + time.perf_counter() - tick
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


def _with_program_output(texts: StageTexts, reply: str) -> str:
    """A programmer's reply with what its program printed as the answer line.

    When the program cannot run, the reply says so and carries no answer line, so the
    vote does not count the program's text as an answer.
    """
    code = program_in(reply)
    if code is None:
        return reply
    try:
        result = run_program(code)
    except CalculatorError as exc:
        return f"{reply}\n{texts.tool_failed.format(error=exc)}"
    return f"{reply}\n{texts.tool_result.format(result=result)}"


def _majority(answers: Sequence[str]) -> bool:
    """More than half of the agents gave the same answer."""
    result = agreement.vote(answers)
    return result.committed is not None and result.supporters * 2 > len(answers)


def _echo_stops(texts: StageTexts) -> list[str]:
    """Small models sometimes go on to echo the notes' headings; the answer ends there."""
    notes, question = texts.labels.notes, texts.labels.question
    return [f"\n{notes}", f"\n## {notes}", f"\n{question}:", f"\n{question}："]


def murmur_token_budget(cfg: RunConfig) -> int:
    """The most tokens a murmur may generate: the budget self-consistency is given too."""
    summaries = cfg.iterations * cfg.summary_tokens if cfg.summary else 0
    return cfg.agents * cfg.iterations * cfg.internal_tokens + summaries + cfg.output_tokens


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


def _documents(run: _Run, backend: Backend, reply_tokens: int) -> str:
    """The retrieved passages (with the question) for the baselines, when there are any."""
    return run.notes(backend, reply_tokens) if run.board.entries(EntryKind.PASSAGE) else ""


def _with_sources(run: _Run, text: str, on_token: TokenSink | None, streamed: bool = False) -> str:
    """The reply with its source list appended (and streamed, if the text was not yet)."""
    sources = _sources(run, text)
    tail = f"\n\n{sources}" if sources else ""
    if on_token is not None:
        on_token(tail if streamed else text + tail)
    return text + tail


def _sources(run: _Run, text: str) -> str:
    """The answer's source list: the passages it cites as [n], or all of them if none."""
    passages = run.board.entries(EntryKind.PASSAGE)
    if not passages:
        return ""
    cited = [i for i in range(1, len(passages) + 1) if f"[{i}]" in text] or list(
        range(1, len(passages) + 1)
    )
    heading = "出典" if run.language == "ja" else "Sources"
    lines = [f"[{i}] {passages[i - 1].source}" for i in cited]
    return heading + ":\n" + "\n".join(lines)


def _fallback(board: InMemoryBlackboard) -> str:
    """If the output agent said nothing, the last summary or contribution is the best reply."""
    for entry in reversed(board.entries()):
        if entry.kind in (EntryKind.SUMMARY, EntryKind.CONTRIBUTION) and entry.text:
            return entry.text
    return ""
