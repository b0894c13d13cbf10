"""Is a reply right? One rule per row kind, and the canonical answer used as a vote key.

Replies come both from strategies that end with an "Answer: …" line and from models asked the
plain question, so each rule reads a reply the way a person would:

- Final part: what follows the last "Answer:" / "答え：" marker (`extract_final`). When a reply
  has a marker, its final part is read first and the whole reply only when that part holds
  nothing usable.
- number: the last number of the final part, else of the whole reply.
- choice: the one choice the final part names, else the one the reply's first line states
  ("スーパー", "スーパーです。", "答えはスーパーです", "The answer is cat."; nothing else on
  that line), else the one the whole reply names, else a bare 1-based index ("3", "3番").
  Naming two choices is no answer. Lines that restate the choices (a list line per choice,
  or one line naming them all) and a verbatim copy of the question are not read: they name
  choices without choosing one.
- span: the final part, or without a marker the reply's first line, with spaces and
  punctuation stripped. Correct when it equals an alias, or contains one and is at most
  twice that alias's length ("平均応力テンソルです。" for 平均応力テンソル): the rule of the
  plain reference baseline in the shared eval README. F1 is character F1 on the same text.

Scoring and self-consistency voting share `normalise_answer`, so a vote is never split between
"1,000" and "1000", or between "虹" and "「虹」".
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
# Decoration around a first-line answer: Markdown emphasis, code ticks, quotes, brackets.
_WRAPPING = " \t*_`\"'「」『』<>〈〉《》"
# A list line's enumerator: "1.", "(2)", "3)", "4：", "-", "・".
_ENUMERATOR = re.compile(r"^\s*(?:[-*•・]|[(（]?\d+\s*[.)．）:：、])\s*")
# What may stand before and after the one choice on a first line that states the answer,
# after NFKC, case folding and removal of spaces and punctuation.
_LEAD = re.compile(
    r"(?:(?:答え|正解|正答)は|the(?:correct|right|best)?answer(?:is)?|answer(?:is)?|itis|its)?"
    r"(?:\d+番?)?"
)
_TAIL = re.compile(r"(?:が(?:正解|答え))?(?:です|だ|である|でしょう|だと思います|と思います)?")


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


def first_line(text: str) -> str:
    """The first line with text in it, without the decoration models put around an answer."""
    for line in text.splitlines():
        cleaned = line.strip().strip(_WRAPPING)
        if cleaned:
            return cleaned
    return ""


def _span_candidates(reply: str) -> list[str]:
    """A reply without a marker is read as a person reads a chat reply: the first line."""
    candidates = _candidates(reply)
    if len(candidates) == 1:
        return [first_line(reply), *candidates]
    return candidates


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


def _only_choice(line: str, choices: Sequence[str]) -> str | None:
    """The choice a line consists of, apart from an enumerator and punctuation; else None."""
    bare = strip_spaces_and_punctuation(_ENUMERATOR.sub("", line))
    return next((c for c in choices if bare and strip_spaces_and_punctuation(c) == bare), None)


def without_restatements(text: str, choices: Sequence[str], question: str = "") -> str:
    """The text without what names choices but chooses none.

    Dropped: list lines that each hold one choice when they hold two or more different ones
    (the options pasted back), lines naming every choice, and verbatim copies of the question
    (only when the question is longer than every choice, so that no choice is cut out). The
    result is folded (`fold`), the form `named_choices` searches.
    """
    lines = text.splitlines()
    listed = {c for line in lines if (c := _only_choice(line, choices)) is not None}
    kept = [
        line
        for line in lines
        if not (len(listed) > 1 and _only_choice(line, choices) is not None)
        and not (len(choices) > 1 and len(named_choices(line, choices)) == len(choices))
    ]
    folded = "\n".join(fold(line) for line in kept)
    asked = fold(question)
    if asked and all(len(asked) > len(fold(c)) for c in choices):
        folded = folded.replace(asked, " ")
    return folded


def stated_choice(line: str, choices: Sequence[str]) -> str | None:
    """The one choice a line states as its answer, with at most a short frame around it.

    A reply that opens with "スーパーです。" or "The answer is cat." has answered, whatever
    its explanation mentions below; a first line that merely discusses one choice ("スーパー
    は違います") does not count, since a reader would not take it as the answer.
    """
    named = named_choices(line, choices)
    if len(named) != 1:
        return None
    haystack = fold(line)
    match = _choice_pattern(fold(named[0])).search(haystack)
    if match is None:  # pragma: no cover - named_choices found it
        return None
    before = strip_spaces_and_punctuation(haystack[: match.start()])
    after = strip_spaces_and_punctuation(haystack[match.end() :])
    if _LEAD.fullmatch(before) and _TAIL.fullmatch(after):
        return named[0]
    return None


def _choice_in(text: str, choices: Sequence[str], question: str = "") -> str | object | None:
    """A choice's text, `_AMBIGUOUS` when several are named, or None when nothing is found.

    Text wins over an index. An index is 1-based, as `task_text` and `plain_text` number the
    choices, and only counts when it is the whole answer ("3", "(3)", "3番"): numbers inside
    reasoning are not choices. 0-based indices are not accepted: "1" would then mean two
    different options.
    """
    cleaned = without_restatements(text, choices, question)
    stated = stated_choice(first_line(cleaned), choices)
    if stated is not None:
        return stated
    named = named_choices(cleaned, choices)
    if len(named) == 1:
        return named[0]
    if named:
        return _AMBIGUOUS
    match = _INDEX_ONLY.match(" ".join(cleaned.split()))
    if match and 1 <= int(match.group(1)) <= len(choices):
        return choices[int(match.group(1)) - 1]
    # Only restatements: choices were named but none chosen, so a final part that lists the
    # options is no answer, as before, rather than a reason to read the rest of the reply.
    return _AMBIGUOUS if named_choices(text, choices) else None


def normalise_answer(kind: Kind, text: str, choices: Sequence[str] = (), question: str = "") -> str:
    """The canonical answer in a reply, usable as a vote key; "" when there is none.

    number: the last number, canonical ("1,000.0" → "1000"); choice: the chosen choice's text
    as written in `choices` (without `choices`, the folded final text); span: the final part
    (without a marker, the first line) without spaces and punctuation, NFKC and case-folded.
    `question` lets a choice reply repeat the question without naming its words as choices.
    """
    candidates = _span_candidates(text) if kind == "span" else _candidates(text)
    for candidate in candidates:
        if kind == "number":
            key = last_number(candidate) or ""
        elif kind == "choice":
            if not choices:
                key = fold(candidate)
            else:
                found = _choice_in(candidate, choices, question)
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


def span_matches(key: str, gold: str) -> bool:
    """Exact, or the gold span inside a reply at most twice its length: "グーテンベルクです"
    answers グーテンベルク, a sentence that merely contains it somewhere does not."""
    return key == gold or (gold in key and len(key) <= 2 * len(gold))


def score(reply: str, row: EvalRow) -> ScoreResult:
    """Score one reply against a row; `f1` equals `correct` except for span rows."""
    key = normalise_answer(row.kind, reply, row.choices, row.question)
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
