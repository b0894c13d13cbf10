"""Where a small model's reply starts to loop, so that generation can end there.

A 0.5B model often falls into saying one sentence again and again until its token limit:
「これは、地球の表面に熱源が生じます。」 sixteen times in one paragraph, or ten numbered items
that differ only in their number (benchmarks/results/loop-guard/). Each repeat costs the
user seconds and buries what came before it. A reply is read as units (lines, and the
sentences within a line), compared without their list marks; a whole line written again,
two finished units in a row that were both written before, or one phrase written four
times in a row inside a sentence (「エネルギーがエネルギーが…」) start a loop. Inside a code
block nothing counts: a program repeats lines for good reasons (a comment above each step,
`total = 0` twice), and cut there it could not run (GSM8K dev row 267,
benchmarks/results/program-guard/).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

MIN_UNIT = 6
"""Shorter units ("Yes.", 「はい。」) are said again for good reasons."""

_PHRASE = (4, 80)
"""The lengths of a stretch that can loop inside a sentence (「エネルギーが」, 「体験的な活動を
したり、」); shorter ones repeat for good reasons (「ーー」, "ha ha")."""
_COPIES = 4
_LETTER = re.compile(r"[^\W\d_]")
_LETTERS = 3
"""A looping phrase holds words: a sum written out again ("2C + 8 - 10 = 2C + 8 - 10 = …",
GSM8K) can go on to the answer."""
_BOUNDARY = re.compile(r"\n|[。！？!?]|\.(?=\s)")
_LIST_MARK = re.compile(r"^(?:[-*•・]|\(?\d{1,3}[.)．、]|\(\d{1,3}\)|[①-⑳])\s*")
_MAYBE_MARK = re.compile(r"^(?:[-*•・]|\(?\d{0,3}[.)．、]?|\(\d{1,3}\)|[①-⑳])?$")


@dataclass(frozen=True)
class _Unit:
    start: int
    key: str
    finished: bool
    line: str = ""
    """Set on a line's first unit: the whole line, stripped, once the line is finished."""


def _key(text: str) -> str:
    return _LIST_MARK.sub("", text.strip()).strip()


@lru_cache(maxsize=4)
def _units(text: str) -> tuple[_Unit, ...]:
    """The reply's units outside code blocks, the last one unfinished unless the text ends
    on a boundary. A fence line is not a unit; a line that opens or closes one switches."""
    units: list[_Unit] = []
    in_code = False
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        finished_line = line_end < len(text)
        if line.lstrip().startswith("```"):
            in_code = not in_code if finished_line else in_code
        elif not in_code:
            start = line_start
            first = len(units)
            mark = _LIST_MARK.match(line.lstrip())
            skip = len(line) - len(line.lstrip()) + (mark.end() if mark else 0)
            for boundary in _BOUNDARY.finditer(line, skip):
                end = line_start + boundary.end()
                units.append(_Unit(start, _key(text[start:end]), True))
                start = end
            if start < line_end or finished_line:
                units.append(_Unit(start, _key(text[start:line_end]), finished_line))
            if finished_line and first < len(units):
                units[first] = replace(units[first], line=line.strip())
        line_start = line_end + 1
    return tuple(unit for unit in units if unit.key or not unit.finished)


def _repeats(units: Sequence[_Unit]) -> list[bool]:
    """For each unit, whether it is a long enough one already written before it."""
    seen: set[str] = set()
    repeats = []
    for unit in units:
        repeats.append(len(unit.key) >= MIN_UNIT and unit.key in seen)
        seen.add(unit.key)
    return repeats


def _in_code(text: str) -> bool:
    return sum(line.lstrip().startswith("```") for line in text.split("\n")) % 2 == 1


@lru_cache(maxsize=4)
def _trailing_repeats(text: str) -> tuple[tuple[int, int], ...]:
    """For each stretch length that the text's end repeats: (length, how many characters at
    the end equal those that length before them). Held back from the first such character,
    the second copy of a looping phrase is never streamed (the last few characters of any
    reply wait a token or two)."""
    found: list[tuple[int, int]] = []
    if not text:
        return ()
    end = len(text) - 1
    # Only lengths at which the last character occurs before can repeat (found by rfind:
    # this runs after every token).
    at = text.rfind(text[-1], max(0, end - _PHRASE[1]), end - _PHRASE[0] + 1)
    while at >= 0:
        length = end - at
        # Most stop at the character before: no slices to compare for them.
        if length < end and text[-2] == text[-2 - length]:
            found.append((length, _matching_end(text, length)))
        else:
            found.append((length, 1))
        at = text.rfind(text[-1], max(0, end - _PHRASE[1]), at)
    return tuple(found)


def _matching_end(text: str, length: int) -> int:
    """How many characters at the text's end equal those `length` before them (a binary
    search on slices: a loop's run can be long)."""
    low, high = 0, len(text) - length
    while low < high:
        middle = (low + high + 1) // 2
        if text[len(text) - middle :] == text[len(text) - middle - length : len(text) - length]:
            low = middle
        else:
            high = middle - 1
    return low


def _phrase_loop(text: str) -> int | None:
    """Where the second copy of a stretch starts, when the text ends with it written
    `_COPIES` times in a row; None otherwise (and inside a code block)."""
    for length, run in _trailing_repeats(text):
        if run < (_COPIES - 1) * length:
            continue
        phrase = text[len(text) - run - length : len(text) - run]
        if len(_LETTER.findall(phrase)) >= _LETTERS and "|" not in phrase:
            return None if _in_code(text) else len(text) - run
    return None


def loop_start(text: str) -> int | None:
    """Where the reply's loop starts (the reply should end there), or None: a whole line
    written before, the first of two finished units in a row that were both written
    before, or a phrase written `_COPIES` times in a row at the end (`_phrase_loop`: call
    this as the reply grows). One sentence said again is not yet a loop: an English list
    often repeats one and goes on with new items."""
    phrase = _phrase_loop(text)
    if phrase is not None:
        earlier = _sentence_loop(text[:phrase])
        return phrase if earlier is None else earlier
    return _sentence_loop(text)


def _sentence_loop(text: str) -> int | None:
    """The first whole line written again, or the first of two repeated units in a row."""
    units = [unit for unit in _units(text) if unit.finished]
    repeats = _repeats(units)
    lines: set[str] = set()
    for index, unit in enumerate(units):
        if unit.line and len(unit.line) >= MIN_UNIT and unit.line in lines:
            return unit.start
        lines.add(unit.line)
        if index and repeats[index - 1] and repeats[index]:
            return units[index - 1].start
    return None


def kept_at(text: str, loop: int, shown: int) -> str:
    """What a reply keeps when it ends at `loop`: the text before it (without the spaces
    there), or what was already streamed, which is never taken back (the hold makes that
    rare)."""
    return text[:shown] if shown > loop else text[:loop].rstrip()


def settled_until(text: str) -> int:
    """How much of a reply in progress can be shown: all but the units at its end that may
    yet turn out to start a loop (finished repeats, and an unfinished unit whose start so far
    is an earlier unit's start, or only a list mark), so that what was streamed is never
    taken back (nor spaces at its end, which a reply that ends there loses)."""
    held = _unit_held(text)
    if not _in_code(text):
        held = min([held, *(len(text) - run for _, run in _trailing_repeats(text))])
    return len(text[:held].rstrip())


def _unit_held(text: str) -> int:
    """Where the units that may yet start a loop begin (the text's length if none)."""
    units = _units(text)
    finished = [unit for unit in units if unit.finished]
    if units and not units[-1].finished:
        last = units[-1]
        partial = text[last.start :].strip()
        if not _MAYBE_MARK.match(partial) and not any(
            unit.key.startswith(last.key) for unit in finished if len(unit.key) >= MIN_UNIT
        ):
            return len(text)
        held = last.start
    else:
        held = len(text)
    for unit, repeat in zip(reversed(finished), reversed(_repeats(finished)), strict=True):
        if not repeat:
            break
        held = unit.start
    return held
