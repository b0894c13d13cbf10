"""Keeping the notes and the output agent's own task out of the answer.

Small models sometimes go on from their answer into a copy of the prompt's headings and
notes ("### チームのメモ", a peer's contribution), or start their reply with such a copy.
The stop strings and the trimming both come from the renderer's own headings, in both
languages, because a model may echo either. The 0.5B model also says its task back, before
its answer or after it ("チームには触れないでください。", "日本語で質問への返答として
書いてください。"): a line that copies the output agent's task is trimmed the same way. And
it often opens with a line that only names the language it was asked to answer in
("日本語で答える:", "日本語："; 5 of the 12 replies of the full murmur to JSQuAD dev rows
in benchmarks/results/eval-span-samples/ and eval-cold/ began so): that line is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

from murmurnet.answers import strip_spaces_and_punctuation
from murmurnet.blackboard import headings
from murmurnet.murmur.prompts import stage_texts

_MIN_ECHO_LINE = 8
_LIST_MARKERS = ("", "- ", "* ", *(f"{n}. " for n in range(1, 10)))
"""How a line may open before a peer's label: bare, or as a list item."""


def echo_headings(titles: dict[str, str]) -> list[str]:
    """The renderer's headings in Japanese and English, with these roles' titles, at every
    Markdown heading level and as bold or colon labels (a model echoes `## チームのメモ` as
    readily as `### チームのメモ` or `**チームのメモ:**`, and a peer's `### 専門家（ラウンド1）`
    as `#### 専門家（ラウンド1）`: the demo's murmur once answered a question about Japan's
    highest mountain and longest river with the notes copied under such headings)."""
    found: list[str] = []
    for language in ("ja", "en"):
        labels = stage_texts(language).labels
        for heading in headings(labels, titles):
            text = heading.lstrip("# ")
            found.extend(f"{'#' * level} {text}" for level in range(1, 7))
            found.extend((f"**{text}", f"{text}:", f"{text}："))  # bold or label forms
        found.extend((f"{labels.question}:", f"{labels.question}："))
        # A peer's label with its round, bare or as a list item ("2. 専門家（ラウンド1）"):
        # no answer starts a line so.
        for title in titles.values():
            label = labels.contribution.split("{round}", 1)[0].format(title=title)
            found.extend(f"{marker}{label}" for marker in _LIST_MARKERS)
    return list(dict.fromkeys(found))


@cache
def task_texts() -> tuple[str, ...]:
    """The output agent's tasks in both languages, for each answer language, without the
    question or the agreed answer they carry (saying those is not an echo of the task),
    without spaces or punctuation (the task's YAML folds a line with a space); and the
    summary's task, which the output agent reads in the notes' summaries and sometimes
    copies too (「新しい事実は加えないでください。」 closed a Japanese reply in
    benchmarks/results/ja-open-output/); and the tasks that write an English answer back
    (`pivot`: 「この答えを使って、質問に日本語で答えてください。」 closed a reply)."""
    found = []
    for language in ("ja", "en"):
        texts = stage_texts(language)
        for name in texts.language_names.values():
            for task in (texts.output_task, texts.agreed_task, texts.cite_task):
                text = task.format(question="", answer="", language_name=name)
                found.append(strip_spaces_and_punctuation(text))
        found.append(strip_spaces_and_punctuation(texts.summary_task.format(round="")))
        for written in (texts.from_english_task, texts.from_english_open_task):
            if written is not None:
                found.append(strip_spaces_and_punctuation(written.format(question="", answer="")))
    return tuple(dict.fromkeys(found))


def _task_piece(line: str, least: int = 1) -> bool:
    """The line is (a piece of) the output agent's task, at least `least` characters long
    without spaces or punctuation: at `_MIN_ECHO_LINE`, the task said back; shorter, a line
    that may still become it."""
    folded = strip_spaces_and_punctuation(line)
    return len(folded) >= least and any(folded in task for task in task_texts())


def _is_task(line: str) -> bool:
    return _task_piece(line, _MIN_ECHO_LINE)


@cache
def preface_starts() -> tuple[str, ...]:
    """How a line that names the answer's language begins, without spaces or punctuation:
    "日本語", "英語", "japanese", "injapanese", "answerinjapanese", …"""
    names = [
        strip_spaces_and_punctuation(name)
        for language in ("ja", "en")
        for name in stage_texts(language).language_names.values()
    ]
    leads = ("", "in", "answerin")
    return tuple(dict.fromkeys(f"{lead}{name}" for name in names for lead in leads))


_PREFACE_REST = re.compile(r"(?:で|の)?(?:答え?(?:る|ます|します)?|回答(?:します|です)?)?")


def _is_preface(line: str) -> bool:
    """The line only says what language the answer is in, as the 0.5B model often opens the
    output agent's reply ("日本語で答える:", "日本語：", "日本語で答えます。", "In
    Japanese:"): it names the language, and ends with a colon or says nothing more."""
    folded = strip_spaces_and_punctuation(line)
    start = next((s for s in preface_starts() if folded.startswith(s)), None)
    if start is None:
        return False
    colon = _plain(line).rstrip("*#").rstrip().endswith(":")
    return colon or _PREFACE_REST.fullmatch(folded[len(start) :]) is not None


def _may_become_preface(line: str) -> bool:
    folded = strip_spaces_and_punctuation(line)
    return bool(folded) and any(
        start.startswith(folded) or folded.startswith(start) for start in preface_starts()
    )


def echo_stops(titles: dict[str, str]) -> list[str]:
    """Stop strings: a heading of the notes at the start of a new line ends the answer."""
    return [f"\n{heading}" for heading in echo_headings(titles)]


def trim_echo(reply: str, notes: str, titles: dict[str, str], question: str = "") -> str:
    """The reply without a copied heading block at its start or a heading after the answer.

    A first line that only names the answer's language is dropped. A reply that opens with
    a heading, with the question said again or with its task said back, is an echo: those
    lines and the lines after them that were copied verbatim from the notes are dropped.
    From the first heading or line of the task that follows real text on, everything is
    dropped (a heading also stops a backend that honours stop strings).
    """
    marks = echo_headings(titles)
    copied = {_plain(line) for line in notes.splitlines() if len(line.strip()) >= _MIN_ECHO_LINE}
    lines = reply.strip().splitlines()
    if lines and _is_preface(lines[0]):
        lines = "\n".join(lines[1:]).strip().splitlines()
    first = lines[0] if lines else ""
    if lines and (_is_heading(first, marks) or _is_question(first, question) or _is_task(first)):
        while lines and (
            not lines[0].strip()
            or _is_heading(lines[0], marks)
            or _is_task(lines[0])
            or _plain(lines[0]) in copied
        ):
            lines.pop(0)
    for index, line in enumerate(lines):
        if _is_heading(line, marks) or _is_task(line):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def _plain(line: str) -> str:
    """The notes hold the question as normalised (NFKC); an echo may not be."""
    return unicodedata.normalize("NFKC", line).strip()


def _is_question(line: str, question: str) -> bool:
    return bool(question.strip()) and _plain(line) == _plain(question)


def _is_heading(line: str, marks: list[str]) -> bool:
    stripped = line.strip()
    return any(stripped.startswith(mark) for mark in marks)


class EchoGuard:
    """Streams the answer but never an echo of the notes.

    A line that may still become one of the renderer's headings is held back until it shows
    what it is. A heading after real text ends the stream (the stop strings end a real
    backend there too); a reply that opens with a heading is held back whole until `finish`
    sends the trimmed answer, so the caller never sees what the final answer drops.
    """

    def __init__(
        self, sink: Callable[[str], None], titles: dict[str, str], question: str = ""
    ) -> None:
        self._sink = sink
        self._marks = echo_headings(titles)
        self._question = _plain(question)
        self._pending = ""
        self._state = "stream"  # then "hold" (an opening echo) or "ended" (a later echo)
        self._line_clean = False  # the current line's start is known not to be a heading
        self._said_something = False

    def __call__(self, piece: str) -> None:
        if self._state != "stream":
            self._pending += piece
            return
        self._pending += piece
        while self._pending:
            newline = self._pending.find("\n")
            if self._line_clean:
                upto = len(self._pending) if newline < 0 else newline + 1
                self._emit(self._pending[:upto])
                self._line_clean = newline < 0
                continue
            line = self._pending if newline < 0 else self._pending[:newline]
            if not self._said_something and newline >= 0 and _is_preface(line):
                self._pending = self._pending[newline + 1 :].lstrip()
                continue
            if not self._said_something and _may_become_preface(line):
                return
            said_question = not self._said_something and _is_question(line, self._question)
            said_task = newline >= 0 and _is_task(line)
            if _is_heading(line, self._marks) or (said_question and newline >= 0) or said_task:
                self._state = "ended" if self._said_something else "hold"
                return
            if said_question or self._may_become_question(line) or _task_piece(line):
                return
            if newline < 0 and self._may_become_heading(line):
                return
            self._line_clean = True

    def finish(self, answer: str) -> None:
        """Send the final answer if the reply opened with an echo and nothing was sent."""
        if self._state == "hold" or not self._said_something:
            self._sink(answer)
        elif self._state == "stream" and self._pending and not _is_task(self._pending):
            self._sink(self._pending)  # a last line that only looked like an echo's start
        self._state = "ended"

    def _emit(self, text: str) -> None:
        self._pending = self._pending[len(text) :]
        if text:
            self._said_something = self._said_something or bool(text.strip())
            self._sink(text)

    def _may_become_question(self, line: str) -> bool:
        """The reply's first line so far is the start of the question said again."""
        start = _plain(line)
        return not self._said_something and bool(start) and self._question.startswith(start)

    def _may_become_heading(self, line: str) -> bool:
        start = line.lstrip()
        return any(mark.startswith(start) for mark in self._marks)
