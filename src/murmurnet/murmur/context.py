"""Everything one run's stages share, and the one way they call a model.

Every model call goes through `RunContext.generate`, so each is timed, counted, published as
events (tokens with their agent and role, then the call's counts), checked for
cancellation, and sent as one batch whenever the backend can batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from murmurnet.blackboard import Blackboard, render
from murmurnet.cancellation import Cancellation
from murmurnet.config import RunConfig
from murmurnet.events import (
    EventBus,
    ModelCalled,
    RunEvent,
    StageFinished,
    StageStarted,
    TokenStreamed,
)
from murmurnet.memory import Turn
from murmurnet.models.base import Backend, TokenCallback, likelihood_scorer
from murmurnet.murmur.prompts import StageTexts
from murmurnet.question import Language, Question
from murmurnet.roles import Role
from murmurnet.types import (
    Completion,
    ContinuationScore,
    EntryKind,
    GenerationRequest,
    Message,
    StageTiming,
)

TokenSink = Callable[[str], None]
_COUNTS = set(StageTiming.model_fields) - {"stage", "agent", "role"}
"""The token counts and seconds a completion hands on to its timing and its event."""
TASK_RESERVE = 200
"""Tokens kept free for the stage task text after the notes."""


@dataclass
class RunContext:
    run_id: str
    config: RunConfig
    question: Question
    language: Language
    texts: StageTexts
    roles: list[Role]
    board: Blackboard
    bus: EventBus
    cancel: Cancellation
    history: Sequence[Turn] = ()
    """The conversation's latest turns that fit beside the question, oldest first."""
    timings: list[StageTiming] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def publish(self, event: RunEvent) -> None:
        self.bus.publish(event)

    def titles(self) -> dict[str, str]:
        return {role.name: role.spec.title for role in self.roles}

    def notes(
        self, backend: Backend, reply_tokens: int, without: frozenset[EntryKind] = frozenset()
    ) -> str:
        budget = backend.context_size - reply_tokens - TASK_RESERVE
        titles = self.titles()
        return render(self.board, self.texts.labels, budget, backend.count_tokens, titles, without)

    def plain_messages(self, instruction: str = "") -> list[Message]:
        """The question (retrieved passages pasted before it, an agent's instruction after
        it) after the conversation's earlier turns, as a chat shows them: a follow-up ("When
        was he born?") means nothing without the turn before it."""
        passages = [entry.text for entry in self.board.entries(EntryKind.PASSAGE)]
        parts = [*passages, self.question.text, *([instruction] if instruction else [])]
        earlier = [
            Message(role=role, content=text)
            for turn in self.history
            for role, text in (("user", turn.question), ("assistant", turn.answer))
        ]
        return [*earlier, Message(role="user", content="\n\n".join(parts))]

    def generate(
        self,
        backend: Backend,
        requests: list[GenerationRequest],
        stage: str,
        roles: Sequence[str | None] = (),
        answer_sink: TokenSink | None = None,
        first_agent: int = 1,
    ) -> list[Completion]:
        """One stage's requests; `roles[i]` names request i's role in events and timings,
        agent `first_agent + i`; `answer_sink` receives the text of a single request as it
        streams (the answer)."""
        names = list(roles) or [None] * len(requests)
        numbered = len(requests) > 1 or roles
        agents = [first_agent + i if numbered else None for i in range(len(requests))]

        def on_token(index: int, piece: str) -> None:
            if answer_sink is not None:
                answer_sink(piece)
            if self.bus.active:
                event = TokenStreamed(
                    run_id=self.run_id,
                    stage=stage,
                    agent=agents[index],
                    role=names[index],
                    text=piece,
                )
                self.publish(event)

        # A backend may retry a call whose text nobody has seen (a pool sends it to another
        # endpoint): only pass a callback when someone is listening.
        watched = answer_sink is not None or self.bus.active
        with self._stage(stage, len(requests)):
            if len(requests) == 1 or (self.config.parallel and backend.can_batch):
                sink = on_token if watched else None
                replies = backend.generate(requests, on_token=sink, cancel=self.cancel)
            else:
                replies = [
                    backend.generate(
                        [request],
                        on_token=_shifted(on_token, index) if watched else None,
                        cancel=self.cancel,
                    )[0]
                    for index, request in enumerate(requests)
                ]
            for index, (request, reply) in enumerate(zip(requests, replies, strict=True)):
                who = {"stage": stage, "agent": agents[index], "role": names[index]}
                self.timings.append(StageTiming(**who, **reply.model_dump(include=_COUNTS)))
                self.publish(
                    ModelCalled(
                        run_id=self.run_id,
                        tag=request.tag,
                        model=backend.name,
                        temperature=request.temperature,
                        max_tokens=request.max_tokens,
                        **who,
                        **reply.model_dump(include=_COUNTS),
                    )
                )
        return replies

    def score(
        self,
        backend: Backend,
        messages: Sequence[Message],
        continuations: Sequence[str],
        stage: str,
    ) -> list[ContinuationScore]:
        """How likely each continuation is after `messages`; timed and published like a call.
        The prompt counts once and each continuation's tokens as prompt tokens: nothing is
        generated."""
        scorer = likelihood_scorer(backend)
        with self._stage(stage, 1):
            tick = time.perf_counter()
            scores = scorer.score(messages, continuations, cancel=self.cancel)
            seconds = time.perf_counter() - tick
            prompt = backend.count_tokens("\n".join(m.content for m in messages))
            tokens = prompt + sum(s.tokens for s in scores)
            self.timings.append(
                StageTiming(stage=stage, prompt_tokens=tokens, completion_tokens=0, seconds=seconds)
            )
        return scores

    @contextmanager
    def _stage(self, stage: str, agents: int) -> Iterator[None]:
        """Announces a stage, and when its calls return adds its wall time to
        `stage_seconds` and announces its end (not after an error: the run ends there)."""
        self.cancel.raise_if_cancelled()
        self.publish(StageStarted(run_id=self.run_id, stage=stage, agents=agents))
        tick = time.perf_counter()
        yield
        seconds = time.perf_counter() - tick
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds
        self.publish(StageFinished(run_id=self.run_id, stage=stage, seconds=seconds))


def _shifted(on_token: TokenCallback, index: int) -> TokenCallback:
    """A one-request call's callback, reporting the request's index in the whole stage."""
    return lambda _only, piece: on_token(index, piece)
