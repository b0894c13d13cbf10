"""The murmur's stages: a round of agents, the summary, the agreement and the output agent.

Each stage reads the blackboard through `RunContext.notes`, makes one batched model call
through `RunContext.generate`, and writes what it learnt back to the blackboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from murmurnet.events import AgreementReached
from murmurnet.models.base import Backend
from murmurnet.murmur import agreement
from murmurnet.murmur.context import RunContext, TokenSink
from murmurnet.murmur.echo import EchoGuard, echo_stops, trim_echo
from murmurnet.murmur.prompts import (
    StageTexts,
    agent_messages,
    approval_messages,
    dissent_messages,
    output_messages,
    ranking_messages,
    summary_messages,
)
from murmurnet.roles import agent_temperature
from murmurnet.tools.calculator import CalculatorError, program_in, run_program
from murmurnet.types import NO_AGREEMENT, EntryKind, GenerationRequest

APPROVAL_TOKENS = 40


@dataclass(frozen=True)
class RoundAnswers:
    """The replies of one round in agent order; `checked[i]` when agent i's answer is what
    its program printed (computed, not guessed)."""

    texts: list[str]
    checked: list[bool]


def run_round(
    ctx: RunContext,
    backend: Backend,
    round_number: int,
    peers: Sequence[str] = (),
    first_agent: int = 1,
) -> RoundAnswers:
    """All agents of one round in one batch. After the first round each agent sees the
    others' last answers (`peers`, in agent order) anonymised and shuffled, and is asked for
    its dissent: small models defer to a named peer, and agreeing is not reasoning. `peers`
    may open with answers of agents outside the round (the short-answer path's plain
    answer, agent 1; the roles are then agents 2, … as in that path's first round, so
    `first_agent` is 2): every agent sees those too, and never its own."""
    cfg = ctx.config
    stage = f"round {round_number}"
    if len(peers) > 1:
        shared = ctx.notes(
            backend, cfg.internal_tokens, without=frozenset({EntryKind.CONTRIBUTION})
        )
        outside = len(peers) - len(ctx.roles)
        shown = agreement.views(len(peers), (cfg.seed or 0) + round_number)[outside:]
        messages = [
            dissent_messages(ctx.texts, shared, role.spec, [peers[j] for j in view])
            for role, view in zip(ctx.roles, shown, strict=True)
        ]
    else:
        shared = ctx.notes(backend, cfg.internal_tokens)
        messages = [agent_messages(ctx.texts, shared, role.spec) for role in ctx.roles]
    requests = [
        GenerationRequest(
            messages=messages[index],
            max_tokens=cfg.internal_tokens,
            temperature=agent_temperature(ctx.roles, index, cfg.internal_temp),
            seed=None if cfg.seed is None else cfg.seed + 1000 * round_number + index,
            tag=f"{stage}/agent {first_agent + index}",
        )
        for index in range(len(ctx.roles))
    ]
    names = [r.name for r in ctx.roles]
    replies = ctx.generate(backend, requests, stage, roles=names, first_agent=first_agent)
    answers = RoundAnswers([], [])
    for index, (role, reply) in enumerate(zip(ctx.roles, replies, strict=True)):
        text, checked = reply.text.strip(), False
        if role.spec.tool == "python":
            text, checked = with_program_output(ctx.texts, text)
        agent = first_agent + index
        ctx.board.write(
            EntryKind.CONTRIBUTION, text, round=round_number, agent=agent, role=role.name
        )
        answers.texts.append(text)
        answers.checked.append(checked)
    return answers


def summarise(ctx: RunContext, backend: Backend, round_number: int) -> None:
    cfg = ctx.config
    stage = f"summary {round_number}"
    request = GenerationRequest(
        messages=summary_messages(ctx.texts, ctx.notes(backend, cfg.summary_tokens), round_number),
        max_tokens=cfg.summary_tokens,
        temperature=cfg.summary_temp,
        seed=cfg.seed,
        tag=stage,
    )
    reply = ctx.generate(backend, [request], stage)[0]
    ctx.board.write(EntryKind.SUMMARY, reply.text.strip(), round=round_number)


CHECKED_WEIGHT = 2.0
"""A program's printed result outweighs one prose answer: small models set a problem up
in code more reliably than they do its arithmetic (PAL, Program of Thoughts)."""


def agree(
    ctx: RunContext, backend: Backend, answers: RoundAnswers, protocol: agreement.Protocol
) -> str | None:
    """The agreement protocol; approvals are one batched call per term.

    The output agent writes the reply from a committed answer (the majority wins); without
    agreement it decides from the notes, as it does for a tie. A vote weighs checked answers
    more, and commits the answer in the words of an agent that explained it, if one did.
    """
    terms = 0

    def approve(proposer: int, proposal: str) -> list[bool]:
        nonlocal terms
        terms += 1
        stage = f"agreement {terms}"
        shared = ctx.notes(backend, APPROVAL_TOKENS)
        requests = [
            GenerationRequest(
                messages=approval_messages(ctx.texts, shared, role.spec, proposer, proposal),
                max_tokens=APPROVAL_TOKENS,
                temperature=0.0,
                tag=f"{stage}/agent {index + 1}",
            )
            for index, role in enumerate(ctx.roles)
        ]
        replies = ctx.generate(backend, requests, stage, roles=[r.name for r in ctx.roles])
        return [agreement.parse_approval(r.text) for r in replies]

    texts = answers.texts
    if protocol is agreement.Protocol.VOTE:
        weights = [CHECKED_WEIGHT if checked else 1.0 for checked in answers.checked]
        result = agreement.vote(texts, weights if any(answers.checked) else None)
        explained = [i for i in result.members if not answers.checked[i]]
        if explained:
            result.committed = texts[explained[0]]
    elif protocol is agreement.Protocol.LEADER:
        result = agreement.leader(texts, approve)
    elif protocol is agreement.Protocol.RANK:
        result = agreement.rank(texts, lambda views: ask_rankings(ctx, backend, texts, views))
    else:
        result = agreement.bft(texts, approve)
    record_agreement(ctx, result, len(texts))
    return result.committed


RANKING_TOKENS = 24


def ask_rankings(
    ctx: RunContext, backend: Backend, answers: Sequence[str], views: list[list[int]]
) -> list[list[int] | None]:
    """Every agent ranks the answers it is shown, in one batched call; greedy, so that the
    same answers get the same ranking."""
    requests = [
        GenerationRequest(
            messages=ranking_messages(ctx.texts, ctx.question.text, [answers[j] for j in view]),
            max_tokens=RANKING_TOKENS,
            temperature=0.0,
            tag=f"ranking/agent {index + 1}",
        )
        for index, view in enumerate(views)
    ]
    replies = ctx.generate(backend, requests, "ranking", roles=[r.name for r in ctx.roles])
    rankings = []
    for view, reply in zip(views, replies, strict=True):
        order = agreement.parse_ranking(reply.text, len(view))
        rankings.append(None if order is None else [view[i] for i in order])
    return rankings


def record_agreement(ctx: RunContext, result: agreement.Agreement, agents: int) -> None:
    ctx.board.write(
        EntryKind.AGREEMENT,
        (result.committed or "").strip() or NO_AGREEMENT,
        role=result.protocol.value,
        agent=result.supporters,
        source="; ".join(result.log),
    )
    ctx.publish(
        AgreementReached(
            run_id=ctx.run_id,
            protocol=result.protocol.value,
            committed=result.committed is not None,
            supporters=result.supporters,
            agents=agents,
            log=result.log,
        )
    )


def write_output(
    ctx: RunContext, backend: Backend, sink: TokenSink | None, agreed: str | None = None
) -> str:
    """The output agent's reply, streamed to `sink`, without any echo of the notes.

    With `agreed` (the answer the agents committed to) it writes the reply from that answer:
    an agent's reply is written for the team (headings, its role's manner, maybe another
    language), not for the user."""
    cfg = ctx.config
    notes = ctx.notes(backend, cfg.output_tokens)
    request = GenerationRequest(
        messages=output_messages(
            ctx.texts,
            notes,
            ctx.question.text,
            ctx.language,
            cite=bool(ctx.board.entries(EntryKind.PASSAGE)),
            agreed=agreed,
        ),
        max_tokens=cfg.output_tokens,
        # Rewriting an answer the agents committed to is copying, not composing.
        temperature=cfg.output_temp if agreed is None else 0.0,
        seed=cfg.seed,
        stop=echo_stops(ctx.titles()),
        japanese_only=ctx.language == "ja",
        tag="output",
    )
    guard = None if sink is None else EchoGuard(sink, ctx.titles(), ctx.question.text)
    reply = ctx.generate(backend, [request], "output", answer_sink=guard)[0]
    text = trim_echo(reply.text, notes, ctx.titles(), ctx.question.text) or agreed or fallback(ctx)
    if guard is not None:
        guard.finish(text)
    return text


def with_program_output(texts: StageTexts, reply: str) -> tuple[str, bool]:
    """A programmer's reply with what its program printed as the answer line, and whether
    the program ran.

    When the program cannot run, the reply says so and carries no answer line, so the
    vote does not count the program's text as an answer.
    """
    code = program_in(reply)
    if code is None:
        return reply, False
    try:
        result = run_program(code)
    except CalculatorError as exc:
        return f"{reply}\n{texts.tool_failed.format(error=exc)}", False
    return f"{reply}\n{texts.tool_result.format(result=result)}", True


def fallback(ctx: RunContext) -> str:
    """If the output agent said nothing, the last summary or contribution is the best reply."""
    for entry in reversed(ctx.board.entries()):
        if entry.kind in (EntryKind.SUMMARY, EntryKind.CONTRIBUTION) and entry.text:
            return entry.text
    return ""
