"""The source list under an answer grounded in retrieved passages."""

from __future__ import annotations

from murmurnet.blackboard import Blackboard
from murmurnet.question import Language
from murmurnet.types import EntryKind

_HEADING = {"ja": "出典", "en": "Sources"}


def sources(board: Blackboard, text: str, language: Language) -> str:
    """The passages the answer cites as [n], or all of them if it cites none; "" without."""
    passages = board.entries(EntryKind.PASSAGE)
    if not passages:
        return ""
    numbers = range(1, len(passages) + 1)
    cited = [i for i in numbers if f"[{i}]" in text] or list(numbers)
    lines = [f"[{i}] {passages[i - 1].source}" for i in cited]
    return _HEADING[language] + ":\n" + "\n".join(lines)
