"""Reading the one answer from a free-form reply: used by the murmur's vote and the scorer alike.

The murmur votes on what its agents answered and the evaluation scores what a strategy
answered, and both must read a reply the same way, or the vote would count answers the scorer
reads differently. Both sides of every comparison (two agents' answers, or a gold answer and a
reply) go through the same functions, so that full-width digits, thousands separators and
Japanese punctuation never decide whether two answers are the same: a vote is never split
between "1,000" and "1000", or between "虹" and "「虹」".

Replies come both from prompts that end with an "Answer: …" line and from the plain question,
so each rule reads a reply the way a person would (`read_answer`):

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
  punctuation stripped. It answers a gold span when it equals it, or contains it and is at
  most twice its length (`span_matches`); closeness is character F1 (`char_f1`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Literal

AnswerKind = Literal["number", "choice", "span"]
"""How a question's one answer is written: a number, one of listed choices, or a text span."""

# "Answer:", "**Answer:**", "答え：", "答:", "答案：", "回答:", "解答：" (either colon width).
_MARKER = re.compile(r"(?:answer|答え?|答案|回答|解答)\s*[*_]*\s*[:：]", re.IGNORECASE)
# Decoration models put around the answer on the marker line.
_WRAPPING = " \t*_`\"'「」『』<>〈〉《》"
_SPACES = re.compile(r"\s+")
# A minus sign only when it does not follow a digit, so that "3-5" is not read as "3" and "-5".
# Thousands groups must be exactly three digits, so that "1,2" (a list) stays two numbers.
_NUMBER = re.compile(
    r"(?:(?<![\d])[-\u2212])?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?",
)
# A reply that is only an index: "3", "(3)", "3.", "No. 3", "option 3", "3番", "選択肢3", "3番目".
_INDEX_ONLY = re.compile(
    r"^\W*(?:choice|option|no|number|選択肢|番号)?\W*(\d+)\s*(?:番目|番)?\W*$",
    re.IGNORECASE,
)
_AMBIGUOUS = object()
# A list line's enumerator: "1.", "(2)", "3)", "4：", "-", "・".
_ENUMERATOR = re.compile(r"^\s*(?:[-*•・]|[(（]?\d+\s*[.)．）:：、])\s*")
# What may stand before and after the one choice on a first line that states the answer,
# after NFKC, case folding and removal of spaces and punctuation.
_LEAD = re.compile(
    r"(?:(?:答え|正解|正答)は|the(?:correct|right|best)?answer(?:is)?|answer(?:is)?|itis|its)?"
    r"(?:\d+番?)?"
)
_TAIL = re.compile(r"(?:が(?:正解|答え))?(?:です|だ|である|でしょう|だと思います|と思います)?")


def nfkc(text: str) -> str:
    """NFKC folds full-width ASCII, full-width digits and half-width kana into one spelling."""
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """NFKC, case-folded, runs of white space collapsed: the spelling used to find choices."""
    return _SPACES.sub(" ", nfkc(text).casefold()).strip()


def strip_spaces_and_punctuation(text: str) -> str:
    """NFKC, case-folded, without spaces or punctuation (Unicode category P*: 。、「」・!? …).

    Span answers differ in quoting and punctuation far more often than in content, and
    Japanese has no spaces to rely on, so exact match and F1 are taken on this form.
    """
    return "".join(
        ch
        for ch in nfkc(text).casefold()
        if not ch.isspace() and not unicodedata.category(ch).startswith("P")
    )


def canonical_number(value: Decimal) -> str:
    """One spelling per value: "3.0", "3" and "03" all become "3"; never scientific notation."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def numbers_in(text: str) -> list[Decimal]:
    """Every number in the text, in order, after NFKC (full-width digits, ，) and comma removal."""
    found: list[Decimal] = []
    for match in _NUMBER.finditer(nfkc(text)):
        raw = match.group().replace(",", "").replace("\u2212", "-")
        try:
            found.append(Decimal(raw))
        except InvalidOperation:  # pragma: no cover - the pattern only admits valid decimals
            continue
    return found


def last_number(text: str) -> str | None:
    """The canonical spelling of the last number in the text; None when there is none."""
    found = numbers_in(text)
    return canonical_number(found[-1]) if found else None


def extract_final(reply: str) -> str:
    """The final answer part of a reply: what follows the last answer marker, else all of it.

    Only the rest of the marker's line is taken (or the next non-empty line when the marker
    ends its line), so that an explanation after "Answer: 42" cannot add numbers or choices.
    The markers of both languages are recognised for every reply, because small models
    often answer in the other language.
    """
    markers = list(_MARKER.finditer(reply))
    if not markers:
        return reply.strip()
    rest = reply[markers[-1].end() :]
    for line in rest.splitlines():
        cleaned = line.strip().strip(_WRAPPING)
        if cleaned:
            return cleaned
    return ""


def _first_line(text: str) -> str:
    """The first line with text in it, without the decoration models put around an answer."""
    for line in text.splitlines():
        cleaned = line.strip().strip(_WRAPPING)
        if cleaned:
            return cleaned
    return ""


def _candidates(reply: str) -> list[str]:
    final = extract_final(reply)
    whole = reply.strip()
    return [final, whole] if final != whole else [whole]


def _span_candidates(reply: str) -> list[str]:
    """A reply without a marker is read as a person reads a chat reply: the first line."""
    candidates = _candidates(reply)
    if len(candidates) == 1:
        return [_first_line(reply), *candidates]
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


def _without_restatements(text: str, choices: Sequence[str], question: str = "") -> str:
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


def _stated_choice(line: str, choices: Sequence[str]) -> str | None:
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
    cleaned = _without_restatements(text, choices, question)
    stated = _stated_choice(_first_line(cleaned), choices)
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


def read_answer(
    kind: AnswerKind, text: str, choices: Sequence[str] = (), question: str = ""
) -> str:
    """The canonical answer in a reply, usable as a vote key; "" when none or ambiguous.

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
