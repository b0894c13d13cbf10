"""Open questions answered by agreement: independent replies, and the one the others agree
with most.

Judged blind against the plain answer on 40 open questions, the discussing murmur (a round
of agents, a summary, the output agent) lost 7 to 16 (benchmarks/results/open-vs-plain/):
the output agent wrote about "the notes" and "the team", copied the summary's labels, or
answered nothing. This path writes nothing about its making: as on the short-answer path,
the plain answer (the question alone, greedy) is one reply and each role answers the same
question with its instruction after it, sampled, in the same batch; the reply shown is the
one whose wording overlaps the others' most (minimum Bayes risk selection, the open-text
form of a majority vote). A reply stuck repeating one sentence, or wandering off on its own,
overlaps the others least; a tie keeps the plain answer.
"""

from __future__ import annotations

from collections import Counter

from murmurnet.answers import strip_spaces_and_punctuation
from murmurnet.models.base import Backend
from murmurnet.murmur import agreement
from murmurnet.murmur.context import RunContext
from murmurnet.murmur.stages import record_agreement
from murmurnet.roles import agent_temperature
from murmurnet.types import EntryKind, GenerationRequest

GRAM = 2
"""Character pairs: words in English, and the unit of meaning Japanese has no spaces for."""


def overlap(a: str, b: str) -> float:
    """F1 of the two texts' character pairs, counted with repeats (so that a sentence written
    ten times does not match ten times), spaces and punctuation left out."""
    grams_a, grams_b = _grams(a), _grams(b)
    common = sum((grams_a & grams_b).values())
    if common == 0:
        return 0.0
    precision = common / sum(grams_a.values())
    recall = common / sum(grams_b.values())
    return 2 * precision * recall / (precision + recall)


def _grams(text: str) -> Counter[str]:
    folded = strip_spaces_and_punctuation(text)
    return Counter(folded[i : i + GRAM] for i in range(len(folded) - GRAM + 1))


def most_agreed(replies: list[str]) -> agreement.Agreement:
    """The reply with the highest total overlap with the others; empty replies never win,
    and a tie goes to the earliest (the plain answer comes first)."""
    scores = [
        sum(overlap(text, other) for j, other in enumerate(replies) if j != i) if text else -1.0
        for i, text in enumerate(replies)
    ]
    log = [f"overlap with the others: {[round(s, 3) for s in scores]}"]
    best = max(range(len(replies)), key=lambda i: (scores[i], -i), default=None)
    if best is None or scores[best] < 0:
        return agreement.Agreement(agreement.Protocol.VOTE, None, 0, 1, [*log, "no replies"])
    log.append(f"closest to the others: agent {best + 1}")
    return agreement.Agreement(
        agreement.Protocol.VOTE, replies[best], 1, 1, log, members=[best], majority=False
    )


def answer_open(ctx: RunContext, backend: Backend) -> str:
    """The plain reply and each role's, in one batch, written to the blackboard; the one the
    others agree with most is the answer ("" when every reply is empty)."""
    cfg = ctx.config
    requests = [
        GenerationRequest(
            messages=ctx.plain_messages(),
            max_tokens=cfg.answer_tokens,
            temperature=0.0,
            tag="plain",
        )
    ]
    for index, role in enumerate(ctx.roles):
        requests.append(
            GenerationRequest(
                messages=ctx.plain_messages(role.spec.instruction),
                max_tokens=cfg.answer_tokens,
                temperature=agent_temperature(ctx.roles, index, cfg.internal_temp),
                seed=None if cfg.seed is None else cfg.seed + 1000 + index,
                # The plain answer stays as a user gets it; a role's Japanese reply is kept
                # from slipping into Korean or simplified Chinese, as the output agent's is.
                japanese_only=ctx.language == "ja",
                tag=f"round 1/agent {index + 2}",
            )
        )
    names = ["plain", *(role.name for role in ctx.roles)]
    replies = [
        reply.text.strip() for reply in ctx.generate(backend, requests, "round 1", roles=names)
    ]
    for agent, (name, text) in enumerate(zip(names, replies, strict=True), start=1):
        ctx.board.write(EntryKind.CONTRIBUTION, text, round=1, agent=agent, role=name)
    result = most_agreed(replies)
    record_agreement(ctx, result, len(replies))
    return result.committed or ""
