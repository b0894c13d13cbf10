"""Retrieval quality on a question set: recall@k against expected sources.

Kept in the library rather than in a test so that the benchmark, the tests and a user's own
question file measure the same thing the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from murmurnet.errors import InputError
from murmurnet.rag.kb import KnowledgeBase, SearchMode


@dataclass(frozen=True)
class Question:
    """A question and the file names (or name#anchor) a good answer would cite."""

    text: str
    sources: tuple[str, ...]
    lang: str = ""


def load_questions(path: Path) -> list[Question]:
    """Rows of {"question": ..., "sources": [...], "lang": ...} from a JSONL file."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(Question(row["question"], tuple(row["sources"]), row.get("lang", "")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: needs 'question' and 'sources' ({exc})") from exc
    return questions


def source_matches(source: str, expected: str) -> bool:
    """True when a passage's source is the expected file (compared by name, anchor optional)."""
    name = Path(source.split("#", 1)[0]).name
    anchor = source.split("#", 1)[1] if "#" in source else ""
    wanted_name, _, wanted_anchor = expected.partition("#")
    return name == wanted_name and (not wanted_anchor or anchor == wanted_anchor)


def recall_at_k(
    kb: KnowledgeBase,
    questions: Sequence[Question],
    ks: Sequence[int] = (1, 3, 5),
    mode: SearchMode = "hybrid",
) -> dict[int, float]:
    """For each k, the share of questions with an expected source among the top k passages."""
    if not questions:
        raise InputError("no questions to evaluate")
    depth = max(ks)
    hits = dict.fromkeys(ks, 0)
    for question in questions:
        sources = [p.source for p in kb.search(question.text, k=depth, mode=mode)]
        for k in ks:
            if any(source_matches(s, e) for s in sources[:k] for e in question.sources):
                hits[k] += 1
    return {k: hits[k] / len(questions) for k in ks}
