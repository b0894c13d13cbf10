"""Keeping the notes out of the answer.

Small models sometimes go on from their answer into a copy of the prompt's headings and
notes ("### チームのメモ", a peer's contribution), or start their reply with such a copy.
The stop strings and the trimming both come from the renderer's own headings, in both
languages, because a model may echo either.
"""

from __future__ import annotations

from collections.abc import Callable

from murmurnet.blackboard import headings
from murmurnet.murmur.prompts import stage_texts

_MIN_ECHO_LINE = 8


def echo_headings(titles: dict[str, str]) -> list[str]:
    """The renderer's headings in Japanese and English, with these roles' titles."""
    found: list[str] = []
    for language in ("ja", "en"):
        labels = stage_texts(language).labels
        found.extend(headings(labels, titles))
        found.extend((f"{labels.question}:", f"{labels.question}："))
    return list(dict.fromkeys(found))


def echo_stops(titles: dict[str, str]) -> list[str]:
    """Stop strings: a heading of the notes at the start of a new line ends the answer."""
    return [f"\n{heading}" for heading in echo_headings(titles)]


def trim_echo(reply: str, notes: str, titles: dict[str, str]) -> str:
    """The reply without a copied heading block at its start or a heading after the answer.

    A reply that opens with a heading is an echo: the heading and the lines after it that
    were copied verbatim from the notes are dropped. From the first heading that follows
    real text on, everything is dropped (for backends that do not honour stop strings).
    """
    marks = echo_headings(titles)
    copied = {line.strip() for line in notes.splitlines() if len(line.strip()) >= _MIN_ECHO_LINE}
    lines = reply.strip().splitlines()
    if lines and _is_heading(lines[0], marks):
        while lines and (
            not lines[0].strip() or _is_heading(lines[0], marks) or lines[0].strip() in copied
        ):
            lines.pop(0)
    for index, line in enumerate(lines):
        if _is_heading(line, marks):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def _is_heading(line: str, marks: list[str]) -> bool:
    stripped = line.strip()
    return any(stripped.startswith(mark) for mark in marks)


class EchoGuard:
    """Streams the answer unless it opens with an echoed heading.

    The first line is held back until it shows whether it is a heading: if not, it and
    everything after it pass straight through (stop strings end a later echo); if it is,
    nothing streams until `finish` sends the trimmed answer, so the caller never sees the
    echo that the final answer drops.
    """

    _DECIDE_AFTER = 48

    def __init__(self, sink: Callable[[str], None], titles: dict[str, str]) -> None:
        self._sink = sink
        self._marks = echo_headings(titles)
        self._held = ""
        self._state = "undecided"  # then "pass" or "hold"

    def __call__(self, piece: str) -> None:
        if self._state == "pass":
            self._sink(piece)
            return
        self._held += piece
        if self._state == "hold":
            return
        head = self._held.lstrip()
        if "\n" not in head and len(head) < self._DECIDE_AFTER:
            return
        if _is_heading(head.split("\n", 1)[0], self._marks):
            self._state = "hold"
        else:
            self._state = "pass"
            self._sink(self._held)

    def finish(self, answer: str) -> None:
        """Send the final answer if nothing of it has been streamed yet."""
        if self._state != "pass":
            self._sink(answer)
            self._state = "pass"
