"""The short-answer path: independent, diverse answers to a question with one checkable
answer, then a vote that the plain answer can only lose to a majority.

Published work on small models says most of what "debate" gains is voting, and that rounds
of discussion before the vote can cost points (Choi et al. 2025; Kaesberg et al. 2025). So
here the agents never see one another: one agent is the `plain` answer itself (the question
alone, greedy), the others answer the same question with their roles' instructions,
sampled (without them on a question about a text whose answer is a span of it:
`ask_agents`); a programmer's program runs in the calculator and one that fails abstains.
The programmer writes greedy (its role's temperature is 0): on the 300 GSM8K dev rows its
greedy programs were right 31.3 % of the time against 22.3 % for sampled ones, and the vote
with the greedy program scored 30.7 % against 26.7 % on rows 151-300, held out from that
choice (benchmarks/results/program-greedy/). A
program that ran weighs 2: it wins alone unless two other answers agree against it. On the
first 40 GSM8K dev rows the bundled (coder) model's programs were right 37.8 % of the time
against 21.6 % for its greedy step-by-step prose, as PAL and Program of Thoughts found for
larger models (benchmarks/results/eval-default/ballots.md). On rows held out from that
choice the lead was thin or reversed (27.5 % against 25 % on rows 41–80, 30 % against 40 %
on rows 81–120; eval-heldout/ballots.md), while the murmur still stayed at or above plain
there, so the weight stands until a larger check (over all 300 GSM8K dev rows the same
ballots replayed at weight 1 scored the same, 29.3 %, 15 rows better and 15 worse;
eval-dev900/replay.md). On a question about a pasted text a program weighs 1: its answer is
read from the text, and the program must first copy the text's facts into code, which the
small model does badly ("何人兄弟か" got a program counting a made-up list, 4, over a right
plain "14人"; eval-shipped). Every answer is read the way the scorer
reads a reply, and a tie goes to the plain answer: the murmur leaves the single model's
answer only when more of its peers agree on another. On a question about a text, a long
winning span is then cut to the phrase of it that answers (`span_cut`).

A question that lists options is answered by a model's likelihood of each option, as
OLMES and the Japanese LM evaluation harness score small models, and the agents are not
asked: on the dev rows their vote, with the likelihood as one voter, did worse than the
likelihood alone (`likeliest_option`). `--choice-answer vote` brings the vote back. The
model that ranks them is `choice_model` (beside the bundled default, the bundled Gemma 270M
base model: on JCommonsenseQA it ranked options far better than the agents' chat model).

With `--vote-weight confidence` each answer weighs the model's probability of the tokens
that end its reply, where the answer is written (DeepConf 2025's "tail confidence"): a
guess the model hesitated over counts for less than an answer it was sure of.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from murmurnet.answers import AnswerKind, char_f1, read_answer, strip_spaces_and_punctuation
from murmurnet.models.base import Backend, LikelihoodScorer
from murmurnet.murmur import agreement
from murmurnet.murmur.context import RunContext
from murmurnet.murmur.option_rank import likeliest_option, option_confidence
from murmurnet.murmur.span_cut import cut_span
from murmurnet.murmur.stages import CHECKED_WEIGHT, record_agreement, with_program_output
from murmurnet.options import asks_for_the_exception, listed_options
from murmurnet.question import has_pasted_text
from murmurnet.roles import agent_temperature
from murmurnet.tools.calculator import program_in
from murmurnet.types import Completion, EntryKind, GenerationRequest

SAME_SPAN = 0.6
"""Two span answers are one answer from this character F1 on ("東京都" and "東京")."""
TAIL_TOKENS = 8
"""The reply's last tokens, where its answer is written, give its confidence."""


@dataclass(frozen=True)
class Ballot:
    """One agent's answer: the reply shown if it wins, the answer read from it ("" abstains)."""

    agent: int
    role: str
    reply: str
    key: str
    weight: float
    checked: bool = False
    """The answer is what a program printed (shown only if no agent explained it)."""
    confidence: float = 1.0
    """How sure the model was of the answer, 0 to 1 (1 when not measured)."""


def tail_confidence(reply: Completion, whole: bool = False) -> float:
    """The geometric mean probability of the reply's last `TAIL_TOKENS` tokens (of all of
    them with `whole`: a program's answer is what it printed, not its last tokens)."""
    values = reply.token_logprobs if whole else reply.token_logprobs[-TAIL_TOKENS:]
    return math.exp(sum(values) / len(values)) if values else 1.0


def answer_kind(ctx: RunContext, options: Sequence[str]) -> AnswerKind:
    if options:
        return "choice"
    return "number" if ctx.question.kind == "calculation" else "span"


def ask_agents(
    ctx: RunContext,
    backend: Backend,
    options: Sequence[str],
    kind: AnswerKind,
    scorer: Backend | None,
) -> list[Ballot]:
    """Round 1: the plain answer and every role's answer (one per instruction, with its
    `more_instructions`) in one batch, then the options' likelihood under `scorer` (if
    any); each written to the blackboard.

    On a question about a text whose answer is a span of it, the agents are asked the plain
    question too, sampled: the roles' instructions only made the 0.5B model worse there. On
    the 300 JSQuAD dev rows the solver's ballot was right on 17 % of them and the reader's on
    12 % (eval-dev900/ballots.md; both often wrote their instruction back, "短く順を追って
    考え…"), each sampled plain answer on 37–41 % (self-consistency's samples, eval-spans);
    and self-consistency, which asks the plain question only, was above the murmur in two
    sessions (19 rows better, 10 worse). Asked so, they were still not better than the
    plain answer alone over two runs of those rows (8 better, 11 worse; eval-cold)."""
    cfg = ctx.config
    by_confidence = cfg.vote_weight == "confidence"
    samples_plain = kind == "span" and about_text(ctx)
    requests = [
        GenerationRequest(
            messages=ctx.plain_messages(),
            max_tokens=cfg.answer_tokens,
            temperature=0.0,
            logprobs=by_confidence,
            tag="plain",
        )
    ]
    # Each role's own instruction first (agents 2, 3, … as in a second round), then the more.
    asked = [
        (i, role, "" if samples_plain else role.spec.instruction)
        for i, role in enumerate(ctx.roles)
    ]
    if not samples_plain:
        asked += [
            (i, role, more)
            for i, role in enumerate(ctx.roles)
            for more in role.spec.more_instructions
        ]
    for number, (index, _, instruction) in enumerate(asked):
        requests.append(
            GenerationRequest(
                messages=ctx.plain_messages(instruction),
                max_tokens=cfg.answer_tokens,
                temperature=agent_temperature(ctx.roles, index, max(cfg.internal_temp, 0.3)),
                seed=None if cfg.seed is None else cfg.seed + 1000 + number,
                logprobs=by_confidence,
                tag=f"round 1/agent {number + 2}",
            )
        )
    roles = ["plain", *(role.name for _, role, _ in asked)]
    replies = ctx.generate(backend, requests, "round 1", roles=roles)
    programs = [False, *(role.spec.tool == "python" for _, role, _ in asked)]
    ballots = [
        read_ballot(ctx, index + 1, name, reply, kind, options, programs[index])
        for index, (name, reply) in enumerate(zip(roles, replies, strict=True))
    ]
    if options and isinstance(scorer, LikelihoodScorer):
        agent = len(ballots) + 1
        best, scores = likeliest_option(ctx, scorer, options, agent, "likelihood")
        confidence = option_confidence(scores) if by_confidence else 1.0
        ballots.append(Ballot(agent, "likelihood", best, best, 1.0, confidence=confidence))
    return ballots


def span_source(question: str, passages: Sequence[str] = ()) -> str | None:
    """The text the answer to a question about a text must come from (the question with its
    pasted passage, and any retrieved passages), read as span keys are read: without spaces
    or punctuation, folded; None for a question with no such text ("日本の首都は？").

    The 0.5B model sometimes answers with its own instruction ("「答え：」に続けて答えだけを
    …"), and two agents that echo alike agree with each other: on JSQuAD dev rows 81–120 such
    echoes outvoted a right plain answer 3 times out of 40."""
    if not passages and not has_pasted_text(question):
        return None
    return strip_spaces_and_punctuation("\n".join([*passages, question]))


def about_text(ctx: RunContext) -> bool:
    """Whether the question is about a text it carries or that was retrieved for it."""
    passages = [entry.text for entry in ctx.board.entries(EntryKind.PASSAGE)]
    return span_source(ctx.question.text, passages) is not None


def from_source(key: str, source: str) -> bool:
    """Whether a span comes from the text: it is in it, or at least half of it is one piece
    of it ("グーテンベルクです" answers with "グーテンベルク", as the scorer also accepts)."""
    if key in source:
        return True
    match = SequenceMatcher(None, key, source, autojunk=False).find_longest_match(
        0, len(key), 0, len(source)
    )
    return 2 * match.size >= len(key)


def program_weight(ran: bool, about_text: bool) -> float:
    """What a ballot weighs: `CHECKED_WEIGHT` for a program that ran, unless the question is
    about a pasted text (see the module's docstring); 1 for any other answer."""
    return CHECKED_WEIGHT if ran and not about_text else 1.0


def ballot_key(
    kind: AnswerKind, text: str, options: Sequence[str], question: str, source: str | None
) -> str:
    """The answer a reply votes for, read as the scorer reads it; "" abstains, and so does a
    span that does not come from the `source` text (`span_source`) when there is one."""
    key = read_answer(kind, text, options, question)
    if key and kind == "span" and source is not None and not from_source(key, source):
        return ""
    return key


def read_ballot(
    ctx: RunContext,
    agent: int,
    role: str,
    reply: Completion,
    kind: AnswerKind,
    options: Sequence[str],
    program: bool = False,
) -> Ballot:
    """One reply as a ballot, written to the blackboard; a `program`'s code is run first.
    A span that does not come from the text the question is about abstains (`span_source`)."""
    text, ran = reply.text.strip(), False
    if program:
        text, ran = with_program_output(ctx.texts, text)
    # A reply cut off by its token limit never reached its answer: its last number is a step
    # of the working, not a result. A program that failed abstains: the last number of its
    # code is a constant of the question, not what it would have printed.
    cut = reply.finish_reason == "length" and not ran
    failed = program and not ran and program_in(text) is not None
    passages = [entry.text for entry in ctx.board.entries(EntryKind.PASSAGE)]
    source = span_source(ctx.question.text, passages)
    key = "" if cut or failed else ballot_key(kind, text, options, ctx.question.text, source)
    ctx.board.write(EntryKind.CONTRIBUTION, text, round=1, agent=agent, role=role)
    weight = program_weight(ran, source is not None)
    return Ballot(agent, role, text, key, weight, ran, tail_confidence(reply, whole=ran))


def same_answer(kind: AnswerKind, a: str, b: str) -> bool:
    """Numbers and options match exactly. Spans match when they overlap enough, or when one
    holds the other: "石油" is what "石油は戦略資源となった資源です" answers."""
    if kind != "span":
        return a == b
    short, long = sorted((a, b), key=len)
    return char_f1(a, b) >= SAME_SPAN or (len(short) >= 2 and short in long)


def _shown(winner: Sequence[Ballot], kind: AnswerKind) -> Ballot:
    """Whose words tell the winning answer. The plain answer's, when it is among them: the
    vote agreed with what `plain` would have said, so the asker gets exactly that, even a
    sentence where a peer gave a bare span (a peer's shorter span cut a right answer short,
    or was a sentence that ended "答え: 2" for a plain "2度", on JSQuAD dev rows; it never
    helped there). Without the plain answer: for a span, the agent that gave the shortest
    span (a peer that kept the sentence around "480件" scored worse than one that gave
    "480件"); for an option, the shortest reply (a long one may name other options on its
    way, and then reads as no answer at all); otherwise an explaining agent before a
    program."""
    if kind == "span":
        return min(winner, key=lambda b: (b.agent != 1, len(b.key), b.agent))
    if kind == "choice":
        return min(winner, key=lambda b: (b.agent != 1, len(b.reply), b.agent))
    return min(winner, key=lambda b: (b.agent != 1, b.checked, b.role == "likelihood"))


def _groups(ballots: Sequence[Ballot], kind: AnswerKind) -> list[list[Ballot]]:
    """The ballots that gave an answer, grouped by agreeing answers, in ballot order."""
    groups: list[list[Ballot]] = []
    for ballot in ballots:
        if not ballot.key:
            continue
        group = next((g for g in groups if same_answer(kind, g[0].key, ballot.key)), None)
        if group is None:
            groups.append([ballot])
        else:
            group.append(ballot)
    return groups


def tally(ballots: Sequence[Ballot], kind: AnswerKind) -> agreement.Agreement:
    """The heaviest group of agreeing answers (a ballot weighs its weight times its
    confidence); on a tie, the group holding the plain answer (ballot 1), else the earliest.
    The plain answer gives way only to a group holding more than half of the weight: two
    weaker answers that happen to agree (a sampled role and the options' likelihood, on a
    question with five options, with `--choice-answer vote`) are not reason enough to leave
    the model's greedy answer.
    A program that ran still wins alone (unless two others agree against it).
    Abstentions do not count. `majority` is False when neither a majority nor a program
    decided: the answer is then a fallback, which `--split-vote discuss` may discuss."""
    groups = _groups(ballots, kind)
    log = [f"groups: {[[b.agent for b in g] for g in groups]}"]
    if not groups:
        return agreement.Agreement(agreement.Protocol.VOTE, None, 0, 1, [*log, "no answers"])
    weight = {id(g): sum(b.weight * b.confidence for b in g) for g in groups}
    if any(b.confidence != 1.0 for g in groups for b in g):
        log.append(f"weights: {[round(weight[id(g)], 3) for g in groups]}")
    top = max(weight.values())
    leading = [g for g in groups if weight[id(g)] == top]
    winner = next((g for g in leading if g[0].agent == 1), leading[0])
    if len(leading) > 1:
        log.append("tie: the plain answer's group" if winner[0].agent == 1 else "tie: earliest")
    plain = groups[0] if groups[0][0].agent == 1 else None
    exact = any(b.weight >= CHECKED_WEIGHT for b in winner)
    majority = 2 * top > sum(weight.values())
    if plain is not None and winner is not plain and not exact and not majority:
        winner = plain
        log.append("no majority against the plain answer: it stands")
    shown = _shown(winner, kind)
    members = [b.agent - 1 for b in winner]
    return agreement.Agreement(
        agreement.Protocol.VOTE, shown.reply, len(winner), 1, log, members, majority or exact
    )


@dataclass(frozen=True)
class ShortAnswer:
    """The vote's answer, and what a second round on a split vote would show."""

    text: str
    split: bool
    """No group of answers held more than half of the votes (a program that ran and wins
    alone is not a split: its answer was checked)."""
    answers: list[str]
    """The agents' replies as a second round shows them: the plain one and the more
    instructions' first, the roles' own last (the options' likelihood, which is not an
    agent's reply, left out)."""


def short_answer(
    ctx: RunContext, backend: Backend, scorer: Backend | None = None
) -> ShortAnswer | None:
    """The voted answer; when no agent gave a readable answer, the plain answer as it is
    (None only when even that is empty). A question that lists options is answered by the
    options' likelihood under `scorer` (the agents' model when None) alone
    (`likeliest_option`) unless `--choice-answer vote`, or it cannot score continuations, or
    it asks for the option that does not fit (then the agents vote without it)."""
    options = listed_options(ctx.question.text)
    ranker = backend if scorer is None else scorer
    by_likelihood = ctx.config.choice_answer == "likelihood"
    exception = asks_for_the_exception(ctx.question.text)
    if options and by_likelihood and isinstance(ranker, LikelihoodScorer) and not exception:
        # Decided by a plan written before its deciding rows were looked at
        # (benchmarks/results/eval-choice-rule/): on JCQA dev rows 201-300 the likelihood
        # alone was right on 16 rows where the agents' vote was wrong, and wrong on 11 where
        # it was right; over all 299 JCQA dev rows, 30.8 % against the vote's 26.8 %.
        return ShortAnswer(likeliest_option(ctx, ranker, options, 1, "likelihood")[0], False, [])
    kind = answer_kind(ctx, options)
    ballots = ask_agents(ctx, backend, options, kind, None if exception else ranker)
    result = tally(ballots, kind)
    split = not result.majority
    if split and ctx.config.split_vote == "discuss":
        # Not an agreement: the second round must not read the fallback as the team's answer.
        log = [*result.log, "split: discussed in a second round"]
        record_agreement(ctx, replace(result, committed=None, log=log), len(ballots))
    else:
        if result.committed and kind == "span" and about_text(ctx):
            cut = cut_span(ctx, backend, result.committed)
            if cut != result.committed:
                log = [*result.log, f"cut to the phrase that answers: {cut!r}"]
                result = replace(result, committed=cut, log=log)
        record_agreement(ctx, result, len(ballots))
    text = result.committed or ballots[0].reply
    if not text:
        return None
    said = [b.reply for b in ballots if b.role != "likelihood"]
    roles = len(ctx.roles)
    return ShortAnswer(text, split, [said[0], *said[1 + roles :], *said[1 : 1 + roles]])
