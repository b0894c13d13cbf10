"""The blackboard as prompt text within a token budget.

Rendering is append-stable — a later version renders as the earlier text plus new lines —
so a llama.cpp backend keeps the cached prefix between rounds and stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from murmurnet.blackboard.base import Blackboard
from murmurnet.types import NO_AGREEMENT, BlackboardEntry, EntryKind


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
    without: frozenset[EntryKind] = frozenset(),
) -> str:
    """The blackboard as prompt text within `budget_tokens`, leaving out the kinds in
    `without`; the question is never dropped.

    When too long, the oldest entries of the least valuable kind go first: contributions
    (their summaries remain), then conversation history, then summaries, then passages.
    """
    entries = [
        e for e in board.entries() if e.kind is not EntryKind.FINAL and e.kind not in without
    ]
    kept = list(entries)
    while True:
        text = _render_entries(kept, labels, role_titles or {})
        droppable = [e for e in kept if e.kind is not EntryKind.QUESTION]
        if count_tokens(text) <= budget_tokens or not droppable:
            return text
        victim = min(droppable, key=lambda e: (_DROP_ORDER.get(e.kind, 0), e.version))
        kept.remove(victim)


def headings(labels: Labels, titles: dict[str, str] | None = None) -> list[str]:
    """Every heading line this renderer writes, up to the first per-entry field.

    A small model that echoes its notes starts with one of these, so the output stage
    stops (and trims) on exactly what the renderer wrote rather than on a guess.
    """
    sections = [labels.question, labels.history, labels.passages, labels.notes]
    lines = [f"## {label}" for label in sections]
    for template in (labels.summary, labels.agreement):
        fixed = template.split("{", 1)[0].strip()
        if fixed:
            lines.append(f"### {fixed}")
    for title in (titles or {}).values():
        lines.append(f"### {labels.contribution.split('{title}', 1)[0]}{title}")
    return lines


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
    notes = [
        e
        for e in entries
        if e.kind in _NOTE_KINDS and not (e.kind is EntryKind.AGREEMENT and e.text == NO_AGREEMENT)
    ]
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
