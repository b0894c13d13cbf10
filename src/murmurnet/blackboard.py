"""The shared blackboard: typed, append-only entries with a version counter.

Rendering is append-stable — a later version renders as the earlier text plus new lines —
so a llama.cpp backend can keep the cached prefix between rounds and stages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from murmurnet.types import BlackboardEntry, EntryKind

WriteListener = Callable[[BlackboardEntry], None]


class Blackboard(Protocol):
    """What agents share. A Redis implementation can follow the same protocol."""

    @property
    def version(self) -> int: ...

    def write(self, kind: EntryKind, text: str, **meta: Any) -> BlackboardEntry: ...

    def entries(self, kind: EntryKind | None = None) -> list[BlackboardEntry]: ...


class InMemoryBlackboard:
    """A thread-safe list of immutable entries; `listeners` see every write (logs, UIs)."""

    def __init__(self, listeners: list[WriteListener] | None = None) -> None:
        self._entries: list[BlackboardEntry] = []
        self._lock = threading.Lock()
        self.listeners = list(listeners or [])

    @property
    def version(self) -> int:
        return len(self._entries)

    def write(self, kind: EntryKind, text: str, **meta: Any) -> BlackboardEntry:
        with self._lock:
            entry = BlackboardEntry(version=len(self._entries) + 1, kind=kind, text=text, **meta)
            self._entries.append(entry)
        for listener in self.listeners:
            listener(entry)
        return entry

    def entries(self, kind: EntryKind | None = None) -> list[BlackboardEntry]:
        with self._lock:
            return [e for e in self._entries if kind is None or e.kind is kind]


@dataclass(frozen=True)
class Labels:
    """Headings in the answer's language (from `prompts/stages.*.yaml`)."""

    question: str
    history: str
    passages: str
    notes: str
    contribution: str  # format fields: title, round
    summary: str  # format field: round
    agreement: str  # format fields: protocol, count


# Lower numbers are dropped first when the rendering must shrink to fit its budget.
_DROP_ORDER = {
    EntryKind.CONTRIBUTION: 0,
    EntryKind.HISTORY: 1,
    EntryKind.SUMMARY: 2,
    EntryKind.PASSAGE: 3,
    EntryKind.AGREEMENT: 4,
}


def render(
    board: Blackboard,
    labels: Labels,
    budget_tokens: int,
    count_tokens: Callable[[str], int],
    role_titles: dict[str, str] | None = None,
) -> str:
    """The blackboard as prompt text within `budget_tokens`; the question is never dropped.

    When too long, the oldest entries of the least valuable kind go first: contributions
    (their summaries remain), then conversation history, then summaries, then passages.
    """
    entries = [e for e in board.entries() if e.kind is not EntryKind.FINAL]
    kept = list(entries)
    while True:
        text = _render_entries(kept, labels, role_titles or {})
        droppable = [e for e in kept if e.kind is not EntryKind.QUESTION]
        if count_tokens(text) <= budget_tokens or not droppable:
            return text
        victim = min(droppable, key=lambda e: (_DROP_ORDER.get(e.kind, 0), e.version))
        kept.remove(victim)


_NOTE_KINDS = (EntryKind.CONTRIBUTION, EntryKind.SUMMARY, EntryKind.AGREEMENT)


def _render_entries(entries: list[BlackboardEntry], labels: Labels, titles: dict[str, str]) -> str:
    by_kind: dict[EntryKind, list[BlackboardEntry]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry)
    parts = [
        f"## {labels.question}\n" + "\n".join(e.text for e in by_kind.get(EntryKind.QUESTION, []))
    ]
    if history := by_kind.get(EntryKind.HISTORY):
        parts.append(f"## {labels.history}\n" + "\n".join(e.text for e in history))
    if passages := by_kind.get(EntryKind.PASSAGE):
        parts.append(
            f"## {labels.passages}\n"
            + "\n".join(f"[{i}] ({e.source}) {e.text}" for i, e in enumerate(passages, 1))
        )
    notes = [e for e in entries if e.kind in _NOTE_KINDS]
    if notes:
        lines = []
        for entry in notes:
            if entry.kind is EntryKind.SUMMARY:
                heading = labels.summary.format(round=entry.round)
            elif entry.kind is EntryKind.AGREEMENT:
                heading = labels.agreement.format(protocol=entry.role, count=entry.agent)
            else:
                title = titles.get(entry.role or "", entry.role or "agent")
                heading = labels.contribution.format(title=title, round=entry.round)
            lines.append(f"### {heading}\n{entry.text}")
        parts.append(f"## {labels.notes}\n" + "\n\n".join(lines))
    return "\n\n".join(parts)
