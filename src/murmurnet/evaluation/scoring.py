"""Is a reply right? One rule per row kind, comparing the answer read from the reply with gold.

The answer is read by `murmurnet.answers.read_answer`, the same reading the murmur's vote uses,
so a strategy is scored on exactly the answer it would vote with. This module only adds the
comparison with the row's gold answer:

- number: the read number equals the gold answer's last number (both canonical).
- choice: the read choice is the gold choice (NFKC, case-folded).
- span: the read span equals an alias, or contains one and is at most twice that alias's
  length ("平均応力テンソルです。" for 平均応力テンソル): the rule of the plain reference
  baseline in the shared eval README. F1 is character F1 on the same text, best alias.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from murmurnet.answers import (
    char_f1,
    fold,
    last_number,
    read_answer,
    span_matches,
    strip_spaces_and_punctuation,
)
from murmurnet.evaluation.dataset import EvalRow


class ScoreResult(BaseModel):
    """`extracted` is the canonical answer found in the reply ("" when none or ambiguous)."""

    model_config = ConfigDict(frozen=True)

    correct: bool
    f1: float
    extracted: str


def score(reply: str, row: EvalRow) -> ScoreResult:
    """Score one reply against a row; `f1` equals `correct` except for span rows."""
    key = read_answer(row.kind, reply, row.choices, row.question)
    if row.kind == "number":
        correct = bool(key) and key == last_number(row.answer)
        return ScoreResult(correct=correct, f1=float(correct), extracted=key)
    if row.kind == "choice":
        correct = bool(key) and fold(key) == fold(row.answer)
        return ScoreResult(correct=correct, f1=float(correct), extracted=key)
    golds = [strip_spaces_and_punctuation(a) for a in (row.aliases or [row.answer])]
    golds = [g for g in golds if g]
    return ScoreResult(
        correct=bool(key) and any(span_matches(key, g) for g in golds),
        f1=max((char_f1(key, g) for g in golds), default=0.0),
        extracted=key,
    )
