"""Finding and normalising a reply's final answer: used by agreement and evaluation alike.

Both sides of every comparison (two agents' answers, or a gold answer and a reply) go
through the same functions, so that full-width digits, thousands separators and Japanese
punctuation never decide whether two answers are the same.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

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
