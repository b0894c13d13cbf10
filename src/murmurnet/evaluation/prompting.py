"""What a model is shown for an evaluation row: the plain question, or the harness's task text.

Every strategy gets the question as a user would type it (`plain_text`), with the request a
person adds when they want a short answer: the same text for all, so the harness's wording
cannot flatter one strategy, and a strong `plain` baseline. `single` alone keeps the older
task text (`task_text`, which asks for a closing "Answer: …" line) as a second baseline, so
the effect of that instruction stays visible. `question_for` is the one place that maps a
strategy to its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from murmurnet.evaluation.dataset import EvalRow

QUESTION_RULE_VERSION = 3
"""Part of every result's fingerprint: bump it when `question_for` changes which text a
strategy gets (1: the task text for every strategy; 2: plain text for all but `single`;
3: the plain text asks for a short span or for the working, as the shared README's reference)."""
TASK_TEXT_STRATEGIES = frozenset({"single"})
"""Strategies that get `task_text` rather than `plain_text`."""
TextKind = Literal["task", "plain"]

_INSTRUCTIONS = {
    ("number", "en"): 'Work it out, then end your reply with a line "Answer: <number>".',
    ("number", "ja"): "順を追って考え、最後の行を「答え：<数>」の形で書いてください。",
    ("choice", "en"): (
        'Pick exactly one choice and end your reply with a line "Answer: <choice text>", '
        "copying the choice's text."
    ),
    ("choice", "ja"): (
        "選択肢から一つだけ選び、最後の行を「答え：<選択肢の文字列>」の形で、"
        "選択肢の文字列をそのまま書いてください。"
    ),
    ("span", "en"): (
        "Answer with a short span copied word for word from the passage, "
        'in a final line "Answer: <span>".'
    ),
    ("span", "ja"): (
        "本文からそのまま抜き出した短い語句で答え、最後の行を「答え：<語句>」の形で書いてください。"
    ),
}
_LABELS = {
    "en": {"choices": "Choices:", "passage": "Passage:", "question": "Question:"},
    "ja": {"choices": "選択肢：", "passage": "本文：", "question": "質問："},
}


_PLAIN_REQUESTS = {
    (
        "number",
        "en",
    ): "Think step by step, then give the final answer as a number on the last line.",
    ("number", "ja"): "順を追って考え、最後の行に答えの数を書いてください。",
    ("span", "en"): "Read the passage and answer the question with a short phrase from it.",
    ("span", "ja"): "文章を読んで、質問に文章中の短い語句だけで答えてください。",
}
"""What a person adds to a question when they want a short answer or the working."""
_PLAIN_LABELS = {
    "en": {"passage": "Passage: ", "question": "Question: ", "answer": "Answer:"},
    "ja": {"passage": "文章: ", "question": "質問: ", "answer": "答え:"},
}


def _context(text: str) -> str:
    """JSQuAD contexts are "title [SEP] body"; a model reads that better as a heading line."""
    return "\n".join(part.strip() for part in text.split("[SEP]") if part.strip())


def task_text(row: EvalRow) -> str:
    """The full question for a model, in the row's language, ending with the answer format."""
    labels = _LABELS[row.lang]
    instruction = _INSTRUCTIONS[(row.kind, row.lang)]
    question = row.question.strip()
    if row.kind == "choice":
        listed = "\n".join(f"{i}. {choice}" for i, choice in enumerate(row.choices, start=1))
        return f"{question}\n\n{labels['choices']}\n{listed}\n\n{instruction}"
    if row.kind == "span":
        parts = [f"{labels['passage']}\n{_context(row.context)}"] if row.context.strip() else []
        parts += [f"{labels['question']}{' ' if row.lang == 'en' else ''}{question}", instruction]
        return "\n\n".join(parts)
    return f"{question}\n\n{instruction}"


def plain_text(row: EvalRow) -> str:
    """The question as a person would paste it into a chat, asking for the answer they want.

    Choices follow the question one per line, numbered from 1 (an index reply is read against
    that numbering), with no request: the bundled model picks better from that list than when
    told to answer with a choice's words only. A passage comes first under its label, then the
    question and an opened answer line, after a one-line request for a short phrase of the
    text; a calculation ends with a request to work it out and put the number last. Without
    these requests the model answers a reading question with a sentence around the span, and
    skips the working of a word problem, so `plain` would be a weakened baseline (the shared
    eval README gives the reference wording; measured in benchmarks/results/eval-plain/).
    """
    question = row.question.strip()
    labels = _PLAIN_LABELS[row.lang]
    if row.kind == "choice":
        listed = "\n".join(f"{i}. {choice}" for i, choice in enumerate(row.choices, start=1))
        return f"{question}\n{listed}"
    if row.kind == "span" and row.context.strip():
        return (
            f"{_PLAIN_REQUESTS[('span', row.lang)]}\n{labels['passage']}{_context(row.context)}"
            f"\n{labels['question']}{question}\n{labels['answer']}"
        )
    if row.kind == "number":
        return f"{question}\n\n{_PLAIN_REQUESTS[('number', row.lang)]}"
    return question


def text_kind(strategy: str) -> TextKind:
    """Which text `strategy` is given: "task" (with an answer format) or "plain"."""
    return "task" if strategy in TASK_TEXT_STRATEGIES else "plain"


def question_for(row: EvalRow, strategy: str) -> str:
    """The text `strategy` is asked for `row`: the task text for `single`, else the plain one."""
    return task_text(row) if text_kind(strategy) == "task" else plain_text(row)


def describe_question_rule(strategies: Sequence[str]) -> str:
    """One sentence for the report saying which strategies got which text."""
    task = [f"`{s}`" for s in strategies if text_kind(s) == "task"]
    plain = [f"`{s}`" for s in strategies if text_kind(s) == "plain"]
    parts = []
    if plain:
        parts.append(
            f"{', '.join(plain)} got the question as a user would type it: choices numbered "
            "one per line; a passage, its question and an opened answer line after a request "
            "for a short phrase of the text; a calculation with a request for the working and "
            "the number on the last line"
        )
    if task:
        parts.append(
            f"{', '.join(task)} got the harness's task text, which also asks for a closing "
            '"Answer: …" line'
        )
    return "; ".join(parts) + f" (question rule {QUESTION_RULE_VERSION})."
