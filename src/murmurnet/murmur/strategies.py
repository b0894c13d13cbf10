"""Strategies registered by name: the murmur and the baselines it is measured against.

A strategy gets the run's context, the stage models and the caller's token sink; it
streams and returns the final text, sources included. Add one with `@strategy("name")`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from murmurnet.errors import ConfigError
from murmurnet.models.base import Backend
from murmurnet.murmur import agreement, open_answer, pivot, short, stages
from murmurnet.murmur.citations import sources
from murmurnet.murmur.context import RunContext, TokenSink
from murmurnet.murmur.option_rank import likeliest_option
from murmurnet.murmur.prompts import single_messages
from murmurnet.options import listed_options
from murmurnet.types import EntryKind, GenerationRequest

SHORT_ANSWER_KINDS = frozenset({"calculation", "exact", "factoid"})
"""Question types with one checkable answer: they take the short-answer path."""


@dataclass(frozen=True)
class StageModels:
    internal: Backend
    summary: Backend | None
    output: Backend
    choice: Backend | None = None
    """The model that ranks a question's listed options (None: the question lists none)."""


Strategy = Callable[[RunContext, StageModels, TokenSink | None], str]
STRATEGIES: dict[str, Strategy] = {}


def strategy(name: str) -> Callable[[Strategy], Strategy]:
    def register(function: Strategy) -> Strategy:
        STRATEGIES[name] = function
        return function

    return register


def get_strategy(name: str) -> Strategy:
    if name not in STRATEGIES:
        raise ConfigError(
            f"unknown strategy {name!r}", hint=f"choose one of {', '.join(STRATEGIES)}"
        )
    return STRATEGIES[name]


def finish(ctx: RunContext, text: str, sink: TokenSink | None, streamed: bool) -> str:
    """The answer with its sources; streams what the caller has not seen yet."""
    listed = sources(ctx.board, text, ctx.language)
    tail = f"\n\n{listed}" if listed else ""
    if sink is not None:
        if not streamed:
            sink(text)
        if tail:
            sink(tail)
    return text + tail


@strategy("murmur")
def murmur(ctx: RunContext, models: StageModels, sink: TokenSink | None) -> str:
    """A question with one checkable answer (a calculation, a choice, a span, a fact) takes the
    short-answer path (`short`): independent answers, the plain one among them, and a vote
    (with no readable answer, the plain reply as it is; a choice goes by the options'
    likelihood); the output agent writes only when the vote is split and `--split-vote
    discuss` asks for a second round, or when even the plain reply is empty. A Japanese
    question of fact is recalled in English and written back (`pivot`); an English one gets
    the plain answer (`_fact_in_its_own_language`). A Japanese open question is recalled in
    English too, an English one gets the plain answer (`open_answer`): judged blind, the
    plain answer was better than both the discussion and the agreement of the bundled
    model's agents, and the Japanese one recalled in English better than it
    (benchmarks/results/open-agreement/). An open question with documents, more than one
    round, a `--consensus`, another answer language (`--language`) or `--open-answer
    discuss`, and any question when `--consensus` asks the agents to judge (leader, bft,
    rank), get rounds of agents with a summary each, the agreement, then the output agent
    (from the committed answer, if the agents agreed).
    """
    cfg = ctx.config
    approvals = cfg.consensus in ("leader", "bft", "rank")
    if ctx.question.kind in SHORT_ANSWER_KINDS and not approvals:
        if pivot.applies(ctx) and (
            written := pivot.recall_and_write(ctx, models.internal, models.output)
        ):
            return finish(ctx, written, sink, streamed=False)
        if _fact_in_its_own_language(ctx):
            return plain(ctx, models, sink)
        voted = short.short_answer(ctx, models.internal, models.choice)
        if voted is not None and not (voted.split and cfg.split_vote == "discuss"):
            return finish(ctx, voted.text, sink, streamed=False)
        if voted is not None:
            _discuss(ctx, models, voted.answers)
        ctx.cancel.raise_if_cancelled()
        return finish(ctx, stages.write_output(ctx, models.output, sink), sink, streamed=True)
    documents = bool(ctx.board.entries(EntryKind.PASSAGE))
    asked_as_is = ctx.language == ctx.question.language  # no --language to answer in another
    if cfg.consensus == "none" and cfg.iterations == 1 and not documents and asked_as_is:
        if cfg.open_answer == "pivot" and pivot.applies(ctx, open_question=True):
            written = pivot.recall_and_write(ctx, models.internal, models.output, True)
            if written:
                return finish(ctx, written, sink, streamed=False)
        if cfg.open_answer in ("plain", "pivot"):
            return plain(ctx, models, sink)
        if cfg.open_answer == "agreement":
            return finish(ctx, open_answer.answer_open(ctx, models.internal), sink, streamed=False)
    answers = stages.RoundAnswers([], [])
    for round_number in range(1, cfg.iterations + 1):
        answers = stages.run_round(ctx, models.internal, round_number, answers.texts)
        if models.summary is not None:
            ctx.cancel.raise_if_cancelled()
            stages.summarise(ctx, models.summary, round_number)
    ctx.cancel.raise_if_cancelled()
    protocol = agreement.Protocol(cfg.consensus)
    if protocol is not agreement.Protocol.NONE and (
        committed := stages.agree(ctx, models.internal, answers, protocol)
    ):
        ctx.cancel.raise_if_cancelled()
        written = stages.write_output(ctx, models.output, sink, agreed=committed.strip())
        return finish(ctx, written, sink, streamed=True)
    ctx.cancel.raise_if_cancelled()
    return finish(ctx, stages.write_output(ctx, models.output, sink), sink, streamed=True)


def _fact_in_its_own_language(ctx: RunContext) -> bool:
    """An English question of fact, no options, no documents: the plain answer answers it.
    On 60 such questions the vote of the plain answer and two sampled agents was right on
    none the plain answer missed and wrong on 3 it had right (two sampled agents agreeing on
    a wrong capital or painter; benchmarks/results/factoid-en/), at 4× its seconds."""
    return (
        ctx.question.kind == "factoid"
        and ctx.question.language == ctx.language == "en"
        and not listed_options(ctx.question.text)
        and not ctx.board.entries(EntryKind.PASSAGE)
    )


def _discuss(ctx: RunContext, models: StageModels, answers: list[str]) -> None:
    """A split vote, with `--split-vote discuss`: the first round summarised, then a second
    round in which each agent sees the others' answers (the plain one too) anonymised and
    shuffled; the output agent then answers from all of it."""
    if models.summary is not None:
        ctx.cancel.raise_if_cancelled()
        stages.summarise(ctx, models.summary, 1)
    ctx.cancel.raise_if_cancelled()
    stages.run_round(ctx, models.internal, 2, answers, first_agent=2)


@strategy("single")
def single(ctx: RunContext, models: StageModels, sink: TokenSink | None) -> str:
    """One answer from the output model: the baseline a murmur has to beat."""
    cfg = ctx.config
    request = GenerationRequest(
        messages=single_messages(ctx.texts, ctx.question.text, _context(ctx, models.output)),
        max_tokens=cfg.output_tokens,
        temperature=cfg.output_temp,
        seed=cfg.seed,
        tag="single",
    )
    reply = ctx.generate(models.output, [request], "output", answer_sink=sink)[0]
    return finish(ctx, reply.text.strip(), sink, streamed=True)


@strategy("self-consistency")
def self_consistency(ctx: RunContext, models: StageModels, sink: TokenSink | None) -> str:
    """`samples` answers to the plain question, the first greedy and the rest sampled, voted
    on exactly as the murmur's short-answer path votes (same reading, same tie-break): what
    voting alone gains, so that the murmur is credited only with what its roles add. (A
    question that lists options the murmur answers by the options' likelihood, which is
    what `plain+likelihood` measures.)"""
    cfg = ctx.config
    requests = [
        GenerationRequest(
            messages=ctx.plain_messages(),
            max_tokens=cfg.answer_tokens,
            temperature=0.0 if index == 0 else max(cfg.internal_temp, 0.3),
            seed=None if cfg.seed is None else cfg.seed + index,
            logprobs=cfg.vote_weight == "confidence",
            tag=f"sample {index + 1}",
        )
        for index in range(cfg.samples)
    ]
    replies = ctx.generate(models.internal, requests, "samples")
    options = listed_options(ctx.question.text)
    kind = short.answer_kind(ctx, options)
    ballots = [
        short.read_ballot(ctx, index + 1, f"sample {index + 1}", reply, kind, options)
        for index, reply in enumerate(replies)
    ]
    result = short.tally(ballots, kind)
    stages.record_agreement(ctx, result, len(replies))
    chosen = result.committed if result.committed is not None else replies[0].text
    return finish(ctx, chosen.strip(), sink, streamed=False)


@strategy("plain")
def plain(ctx: RunContext, models: StageModels, sink: TokenSink | None) -> str:
    """The model asked as a person would ask it: the question alone through its own chat
    template, no system text, greedy. The baseline every report leads with. It asks the
    agents' model, the one whose plain answer the murmur's vote starts from, so that with
    mixed models the baseline is still the same model alone."""
    request = GenerationRequest(
        messages=ctx.plain_messages(),
        max_tokens=ctx.config.answer_tokens,
        temperature=0.0,
        tag="plain",
    )
    reply = ctx.generate(models.internal, [request], "output", answer_sink=sink)[0]
    return finish(ctx, reply.text.strip(), sink, streamed=True)


@strategy("plain+likelihood")
def plain_likelihood(ctx: RunContext, models: StageModels, sink: TokenSink | None) -> str:
    """For a question that lists options: the option the model finds likeliest as its reply
    (log-probability per character), instead of the one it names. Reported beside `plain`
    so that a gain from scoring choices is never credited to collaboration. A question
    without options gets `plain`."""
    options = listed_options(ctx.question.text)
    if not options:
        return plain(ctx, models, sink)
    best, _ = likeliest_option(ctx, models.internal, options, 1, "output")
    return finish(ctx, best, sink, streamed=False)


def _context(ctx: RunContext, backend: Backend) -> str:
    """The retrieved passages and the earlier turns (with the question) for `single`, when
    there are any: a served model answers inside its conversation."""
    if not ctx.board.entries(EntryKind.PASSAGE) and not ctx.board.entries(EntryKind.HISTORY):
        return ""
    return ctx.notes(backend, ctx.config.output_tokens)
