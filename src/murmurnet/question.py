"""Reading the question: normalise it, detect its language and classify its type.

Keyword lists live in `prompts/question_types.yaml` so that users can tune them without
touching code; the scoring is deliberately simple and explainable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

import yaml

from murmurnet.errors import InputError

Language = Literal["ja", "en"]
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LATIN = re.compile(r"[A-Za-z]")
_SPACES = re.compile(r"[ \t\u3000]+")


@dataclass(frozen=True)
class Question:
    text: str
    language: Language
    kind: str


def normalise(text: str) -> str:
    """NFKC (full-width ASCII → ASCII), trimmed, runs of spaces collapsed; newlines kept."""
    text = unicodedata.normalize("NFKC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if line)


def detect_language(text: str) -> Language:
    """Japanese as soon as kana or kanji make up a fair share of the letters."""
    japanese = len(_JAPANESE.findall(text))
    latin = len(_LATIN.findall(text))
    return "ja" if japanese and japanese * 3 >= latin * 0.5 else "en"


@cache
def _keywords() -> dict[str, list[str]]:
    raw = yaml.safe_load(files("murmurnet.prompts").joinpath("question_types.yaml").read_text())
    return {kind: [str(w).lower() for w in words] for kind, words in raw.items()}


def classify(text: str) -> str:
    """The question type with the most keyword hits; `informational` when none match."""
    lowered = text.lower()
    scores = {kind: sum(w in lowered for w in words) for kind, words in _keywords().items()}
    best = max(scores, key=lambda kind: scores[kind])
    return best if scores[best] > 0 else "informational"


def read_question(text: str, language: str = "auto") -> Question:
    """Validate and analyse a user's question; empty input is an `InputError`."""
    cleaned = normalise(text or "")
    if not cleaned:
        raise InputError("the question is empty", hint="type a question")
    lang: Language = detect_language(cleaned) if language == "auto" else language  # type: ignore[assignment]
    return Question(text=cleaned, language=lang, kind=classify(cleaned))
