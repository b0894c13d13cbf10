"""A long answer to a question about a pasted text, cut to the phrase that answers it.

Asked for a short phrase of the text, the 0.5B model often copies the whole sentence around
it ("RIAIの会員制度が機能している国はアイルランドです" for "アイルランド"). The vote keeps
the plain answer's words, so the murmur inherited those sentences: on the 300 JSQuAD dev
rows, of the plain answers longer than 20 characters one was right, and 24 held a right
phrase. Asked once more with only the question and that sentence, the model picks the
phrase out far more easily than from the whole text. The cut is kept only when it is a
shorter piece of the answer, so it can narrow an answer but never change it
(benchmarks/results/span-snap/). The English wording asks the same and is not measured: the
dev sets hold no English questions about a text.
"""

from __future__ import annotations

from murmurnet.answers import read_answer
from murmurnet.models.base import Backend
from murmurnet.murmur.context import RunContext
from murmurnet.question import asked_question
from murmurnet.types import GenerationRequest, Message

LONG_SPAN = 8
"""An answer longer than this many characters (spaces and punctuation removed) is cut:
chosen on JSQuAD dev rows 1-150, where cutting from 8 up gained the most and lost none."""
CUT_TOKENS = 48
"""A phrase is short; a reply that runs on is no cut."""


def cut_span(ctx: RunContext, backend: Backend, reply: str) -> str:
    """`reply`, or the phrase of it that answers the question when it is long and the model
    names a shorter piece of it."""
    task = ctx.texts.span_cut_task
    question = ctx.question.text
    key = read_answer("span", reply, (), question)
    if task is None or len(key) <= LONG_SPAN:
        return reply
    answer = reply.strip().splitlines()[0]
    request = GenerationRequest(
        messages=[
            Message(
                role="user", content=task.format(question=asked_question(question), answer=answer)
            )
        ],
        max_tokens=CUT_TOKENS,
        temperature=0.0,
        tag="span cut",
    )
    cut = ctx.generate(backend, [request], "span cut", roles=["reader"])[0].text.strip()
    narrower = read_answer("span", cut, (), question)
    return cut if narrower and len(narrower) < len(key) and narrower in key else reply
