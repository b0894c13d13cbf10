"""Ranking a question's listed options by a model's likelihood of each, as OLMES and the
Japanese LM evaluation harness score small models, instead of asking it to name one.

A chat model reads the plain prompt (options listed) and each option is scored as its reply,
per character, so a long option is not penalised for its length. A base model reads a
cloze, the question without its options then an answer line ("質問: …\\n答え:"); each option's
log-likelihood there, less its log-likelihood after the answer line alone, is its pointwise
mutual information with the question (Holtzman et al. 2021): an option likely anyway, for
its wording, gains nothing from that. Each form was the better one for its kind of model on
JCommonsenseQA dev rows 151-300 (benchmarks/results/choice-scorer-model/).

PMI has the opposite fault on a question of fact: when the question makes every option far
likelier, they are all the kind of thing asked for (four mountains, four authors), and the
best-known one, the answer more often than not, is the one most likely anyway, so the least
known gains most (Neptune as the largest planet). There the cloze alone ranks them
(`EVEN_RISE`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from murmurnet.models.base import Backend, LikelihoodScorer
from murmurnet.murmur.context import RunContext
from murmurnet.options import question_stem
from murmurnet.types import ContinuationScore, EntryKind, Message

EVEN_RISE = 8.0
"""From this mean rise of the options' log-likelihood (nats) from the bare answer line to the
cloze, a base model ranks them by the cloze alone. On 40 questions of fact the rise's median
was 8.7; on the 300 JCommonsenseQA dev rows it was 2.6 and never above 7.4; the cloze alone
answered 18 of those 40 facts, PMI 4 (benchmarks/results/choice-knowledge/)."""


def likeliest_option(
    ctx: RunContext, scorer: Backend, options: Sequence[str], agent: int, stage: str
) -> tuple[str, list[ContinuationScore]]:
    """The option `scorer` finds likeliest, written to the blackboard as `agent`'s
    contribution; with every option's score as ranked (for a base model, its PMI or cloze
    log-likelihood)."""
    if not isinstance(scorer, LikelihoodScorer) or scorer.is_chat:
        scores = ctx.score(scorer, ctx.plain_messages(), options, stage)
        best = max(scores, key=lambda s: s.per_char).text
    else:
        scores = _base_model_scores(ctx, scorer, options, stage)
        best = max(scores, key=lambda s: s.logprob).text
    ctx.board.write(EntryKind.CONTRIBUTION, best, round=1, agent=agent, role="likelihood")
    return best, scores


def _base_model_scores(
    ctx: RunContext, scorer: Backend, options: Sequence[str], stage: str
) -> list[ContinuationScore]:
    passages = [Message(role="user", content=e.text) for e in ctx.board.entries(EntryKind.PASSAGE)]
    cloze = (
        f"{ctx.texts.labels.question}: {question_stem(ctx.question.text)}\n{ctx.texts.answer_line}"
    )
    after = ctx.score(scorer, [*passages, Message(role="user", content=cloze)], options, stage)
    alone = ctx.score(scorer, [Message(role="user", content=ctx.texts.answer_line)], options, stage)
    rises = [score.logprob - bare.logprob for score, bare in zip(after, alone, strict=True)]
    if sum(rises) / len(rises) >= EVEN_RISE:
        return after
    return [
        score.model_copy(update={"logprob": rise}) for score, rise in zip(after, rises, strict=True)
    ]


def option_confidence(scores: Sequence[ContinuationScore]) -> float:
    """The likeliest option's share of the options' total probability."""
    top = max(score.logprob for score in scores)
    shares = [math.exp(score.logprob - top) for score in scores]
    return 1.0 / sum(shares)
