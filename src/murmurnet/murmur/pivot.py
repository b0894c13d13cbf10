"""Questions of fact asked in Japanese: recalled in English, written back in Japanese.

The bundled 0.5B model remembers far more in English than in Japanese: asked
「日本の首都はどこですか？」 it answers 京都, asked the same question with "Answer in
English." it answers Tokyo. Asking in the model's strongest language is what self-translate
(Etxaniz et al. 2024) and cross-lingual prompting (Qin et al. 2023) found for small
multilingual models. So a Japanese question of fact, with no passage to read from, goes to
two agents in turn: a bilingual agent that answers it in English, then the output agent, which
writes that answer as one Japanese sentence. A vote among Japanese answers cannot recover a
fact the model only knows in English, and sentences in two languages cannot be compared, so
there is no vote here. A Japanese open question (explain, advise) goes the same way, written
out rather than in one sentence: judged blind against the plain answer, 9 better, 7 worse on
the 40 it was chosen on, then 9 better, 1 worse on 40 new ones (p = 0.021;
benchmarks/results/open-agreement/).
"""

from __future__ import annotations

from murmurnet.models.base import Backend
from murmurnet.murmur.context import RunContext
from murmurnet.murmur.echo import trim_echo
from murmurnet.question import detect_language
from murmurnet.types import EntryKind, GenerationRequest, Message


def applies(ctx: RunContext, open_question: bool = False) -> bool:
    """A question of fact (or an open question) in a language with an English recall prompt
    and a task to write it back, with no passages (a passage in the question's language is
    read as it is) and no earlier turns (「それはどこですか？」 means nothing without them)."""
    return (
        (open_question or ctx.question.kind == "factoid")
        and ctx.texts.recall_in_english is not None
        and _write_task(ctx, open_question) is not None
        and not ctx.board.entries(EntryKind.PASSAGE)
        and not ctx.board.entries(EntryKind.HISTORY)
    )


def _write_task(ctx: RunContext, open_question: bool) -> str | None:
    """The output agent's task that writes the English answer back (None: no such task)."""
    return ctx.texts.from_english_open_task if open_question else ctx.texts.from_english_task


def recall_and_write(
    ctx: RunContext, internal: Backend, output: Backend, open_question: bool = False
) -> str | None:
    """The answer in the question's language, without its task or the question said back;
    None when the English answer is empty (the short-answer path then answers). The writer
    sometimes copies the English answer: for a fact it stands ("The capital of Spain is
    Madrid." is right, the Japanese vote said ロンド), for an open question a reply not in
    the question's language, or one that only said the question back, is None too and the
    plain answer answers (「雨はどのようにして降るのですか？」 was written back as it was
    asked; benchmarks/results/open-agreement/). Nothing is streamed before it is read."""
    cfg = ctx.config
    question = ctx.question.text
    written_task = _write_task(ctx, open_question)
    assert ctx.texts.recall_in_english is not None and written_task is not None
    recall = GenerationRequest(
        messages=[Message(role="user", content=f"{question}\n\n{ctx.texts.recall_in_english}")],
        max_tokens=cfg.answer_tokens,
        temperature=0.0,
        tag="english",
    )
    english = ctx.generate(internal, [recall], "round 1", roles=["bilingual"])[0].text.strip()
    if not english:
        return None
    ctx.board.write(EntryKind.CONTRIBUTION, english, round=1, agent=1, role="bilingual")
    ctx.cancel.raise_if_cancelled()
    task = written_task.format(question=question, answer=english)
    write = GenerationRequest(
        messages=[Message(role="user", content=task)],
        max_tokens=cfg.output_tokens,
        temperature=0.0,
        japanese_only=ctx.language == "ja",
        tag="output",
    )
    reply = ctx.generate(output, [write], "output")[0].text
    # Without the task said back or the question said again (the question counts as a note).
    written = trim_echo(reply, question, {}, question)
    if open_question:
        return written if written and detect_language(written) == ctx.language else None
    return written or english
