"""Is a reply right? One rule per row kind, and the canonical answer used as a vote key.

The answer is looked for first in the final part of the reply (after the last "Answer:" /
"答え：" marker) and, only when that part holds nothing usable, in the whole reply. Scoring and
self-consistency voting share `normalise_answer`, so a vote is never split between "1,000" and
"1000", or between "虹" and "「虹」".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from murmurnet.answers import extract_final, fold, last_number, strip_spaces_and_punctuation
from murmurnet.evaluation.dataset import EvalRow, Kind

# A reply that is only an index: "3", "(3)", "3.", "No. 3", "option 3", "3番", "選択肢3", "3番目".
_INDEX_ONLY = re.compile(
    r"^\W*(?:choice|option|no|number|選択肢|番号)?\W*(\d+)\s*(?:番目|番)?\W*$",
    re.IGNORECASE,
)
_AMBIGUOUS = object()


class ScoreResult(BaseModel):
    """`extracted` is the canonical answer found in the reply ("" when none or ambiguous)."""

    model_config = ConfigDict(frozen=True)

    correct: bool
    f1: float
    extracted: str


def _candidates(reply: str) -> list[str]:
    final = extract_final(reply)
    whole = reply.strip()
    return [final, whole] if final != whole else [whole]


def _choice_pattern(folded: str) -> re.Pattern[str]:
    """ASCII words must stand alone ("cat" is not named by "category"); Japanese has no spaces."""
    left = r"(?<![0-9a-z])" if folded[0].isascii() and folded[0].isalnum() else ""
    right = r"(?![0-9a-z])" if folded[-1].isascii() and folded[-1].isalnum() else ""
    return re.compile(left + re.escape(folded) + right)


def named_choices(text: str, choices: Sequence[str]) -> list[str]:
    """The choices whose text appears in `text`, each once, in the order of `choices`.

    An occurrence inside a longer named choice does not count: "駅の売店" names only
    "駅の売店", not also "駅".
    """
    folded = {fold(c): c for c in reversed(choices) if fold(c)}  # first spelling wins
    haystack = fold(text)
    spans: list[tuple[int, int, str]] = []
    for key in folded:
        spans += [(m.start(), m.end(), key) for m in _choice_pattern(key).finditer(haystack)]
    named = {
        key
        for start, end, key in spans
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in spans)
    }
    return [c for c in choices if fold(c) in named and folded[fold(c)] == c]


def _choice_in(text: str, choices: Sequence[str]) -> str | object | None:
    """A choice's text, `_AMBIGUOUS` when several are named, or None when nothing is found.

    Text wins over an index. An index is 1-based, as `task_text` numbers the choices, and only
    counts when it is the whole answer ("3", "(3)", "3番"): numbers inside reasoning are not
    choices. 0-based indices are not accepted: "1" would then mean two different options.
    """
    named = named_choices(text, choices)
    if len(named) == 1:
        return named[0]
    if named:
        return _AMBIGUOUS
    match = _INDEX_ONLY.match(fold(text))
    if match and 1 <= int(match.group(1)) <= len(choices):
        return choices[int(match.group(1)) - 1]
    return None


def normalise_answer(kind: Kind, text: str, choices: Sequence[str] = ()) -> str:
    """The canonical answer in a reply, usable as a vote key; "" when there is none.

    number: the last number, canonical ("1,000.0" → "1000"); choice: the named choice's text as
    written in `choices` (without `choices`, the folded final text); span: the final part without
    spaces and punctuation, NFKC and case-folded.
    """
    for candidate in _candidates(text):
        if kind == "number":
            key = last_number(candidate) or ""
        elif kind == "choice":
            if not choices:
                key = fold(candidate)
            else:
                found = _choice_in(candidate, choices)
                if found is _AMBIGUOUS:
                    return ""
                key = found if isinstance(found, str) else ""
        else:
            key = strip_spaces_and_punctuation(candidate)
        if key:
            return key
    return ""


def char_f1(prediction: str, gold: str) -> float:
    """Character-bag F1, the usual JSQuAD measure: Japanese has no word boundaries to count."""
    if not prediction or not gold:
        return float(prediction == gold)
    common = sum((Counter(prediction) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision = common / len(prediction)
    recall = common / len(gold)
    return 2 * precision * recall / (precision + recall)


def score(reply: str, row: EvalRow) -> ScoreResult:
    """Score one reply against a row; `f1` equals `correct` except for span rows."""
    key = normalise_answer(row.kind, reply, row.choices)
    if row.kind == "number":
        correct = bool(key) and key == last_number(row.answer)
        return ScoreResult(correct=correct, f1=float(correct), extracted=key)
    if row.kind == "choice":
        correct = bool(key) and fold(key) == fold(row.answer)
        return ScoreResult(correct=correct, f1=float(correct), extracted=key)
    golds = [strip_spaces_and_punctuation(a) for a in (row.aliases or [row.answer])]
    golds = [g for g in golds if g]
    return ScoreResult(
        correct=bool(key) and key in golds,
        f1=max((char_f1(key, g) for g in golds), default=0.0),
        extracted=key,
    )
