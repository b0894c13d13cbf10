"""Split text into passages sized in model tokens, cutting at sentence ends.

A passage must fit the prompt budget of a small model, so its size is counted with a model
tokenizer rather than in characters (a Japanese character costs about one token, an English
word about 1.3). Cuts fall after 。！？ as well as . ! ?, because a passage that starts
mid-sentence reads badly to the model and to the user who inspects it. Consecutive passages
overlap by a few sentences so that a fact that straddles a cut is whole in one of them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

TokenCounter = Callable[[str], int]

# A sentence ends after 。！？!? (or . before a space), plus any closing quotes or brackets.
_CLOSERS = "」』）)］\\]】〕\"'’”"
_JA_END = re.compile(f"[。！？!?．｡…]+[{_CLOSERS}]*")
_EN_END = re.compile(f"(?<=[^\\s.])[.]+[{_CLOSERS}]*(?=\\s)")
# Line starts that begin a new unit even without punctuation: headings, list items, tables.
_LINE_UNIT = re.compile(r"\n(?=[ \t]*(?:#|[-*+•・][ \t]|\d+[.)][ \t]|\||>))")
_HEADING_LINE = re.compile(r"^[ \t]*#{1,6}[ \t][^\n]*\n", re.MULTILINE)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_CLAUSE = re.compile(r"(?<=[、，,;；:：])")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "no", "fig", "approx"}
)
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


@dataclass(frozen=True)
class Chunk:
    """One passage: its text and where it sits in the document (index and characters)."""

    text: str
    position: int
    start: int
    end: int
    tokens: int


def _is_abbreviation(text: str, dot: int) -> bool:
    match = _WORD_BEFORE.search(text, 0, dot)
    if match is None:
        return False
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed; the spans cover all the words."""
    cuts = {0, len(text)}
    cuts.update(m.end() for m in _JA_END.finditer(text))
    cuts.update(m.end() for m in _EN_END.finditer(text) if not _is_abbreviation(text, m.start()))
    cuts.update(m.end() for m in _PARAGRAPH.finditer(text))
    cuts.update(m.start() + 1 for m in _LINE_UNIT.finditer(text))
    cuts.update(m.end() for m in _HEADING_LINE.finditer(text))
    spans = []
    ordered = sorted(cuts)
    for start, end in itertools.pairwise(ordered):
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            left = start + (len(piece) - len(piece.lstrip()))
            spans.append((left, left + len(stripped)))
    return spans


def _split_long(
    text: str, span: tuple[int, int], limit: int, count: TokenCounter
) -> list[tuple[int, int, int]]:
    """Cut one over-long sentence at clause marks (、,;:), then at character windows."""
    start, end = span
    marks = (m.start() for m in _CLAUSE.finditer(text, start, end))
    bounds = sorted({start, *marks, end})
    pieces: list[tuple[int, int, int]] = []
    current = fitted = start
    for stop in bounds[1:]:
        if count(text[current:stop]) > limit and fitted > current:
            pieces.append((current, fitted, count(text[current:fitted])))
            current = _skip_space(text, fitted, stop)
        if count(text[current:stop]) > limit:
            pieces.extend(_windows(text, current, stop, limit, count))
            current = _skip_space(text, stop, end)
        fitted = stop
    if current < end:
        pieces.append((current, end, count(text[current:end])))
    return pieces


def _skip_space(text: str, index: int, limit: int) -> int:
    while index < limit and text[index].isspace():
        index += 1
    return index


def _windows(
    text: str, start: int, end: int, limit: int, count: TokenCounter
) -> list[tuple[int, int, int]]:
    """Character windows that each fit `limit` tokens (for text with no usable breaks)."""
    out = []
    while start < end:
        size = end - start
        while size > 1 and count(text[start : start + size]) > limit:
            size = max(1, size * 3 // 4)
        out.append((start, start + size, count(text[start : start + size])))
        start += size
    return out


def chunk_text(
    text: str, count: TokenCounter, *, max_tokens: int = 200, overlap: int = 40
) -> list[Chunk]:
    """Greedy passages of whole sentences up to `max_tokens`, overlapping by up to `overlap`."""
    if max_tokens < 8:
        raise ValueError("max_tokens must be at least 8")
    overlap = max(0, min(overlap, max_tokens // 2))
    units: list[tuple[int, int, int]] = []
    for span in sentence_spans(text):
        tokens = count(text[span[0] : span[1]])
        if tokens > max_tokens:
            units.extend(_split_long(text, span, max_tokens, count))
        else:
            units.append((span[0], span[1], tokens))
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last, total = first, units[first][2]
        while last + 1 < len(units) and total + units[last + 1][2] <= max_tokens:
            last += 1
            total += units[last][2]
        start, end = units[first][0], units[last][1]
        chunks.append(Chunk(text[start:end], len(chunks), start, end, total))
        if last + 1 >= len(units):
            break
        # Step back over whole sentences worth at most `overlap` tokens, always moving on.
        following, carried = last + 1, 0
        while following - 1 > first and carried + units[following - 1][2] <= overlap:
            following -= 1
            carried += units[following][2]
        first = following
    return chunks
