"""What a model is shown for an evaluation row, and where its final answer sits in a reply.

Every strategy gets the same task text, so differences in accuracy come from the strategy and
not from the wording. The text asks for a closing "Answer: …" line because small models ramble:
a fixed marker lets the scorer and self-consistency voting find the answer reliably.
"""

from __future__ import annotations

from murmurnet.evaluation.dataset import EvalRow

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
