"""The in-process blackboard: typed, append-only entries with a version counter."""

from __future__ import annotations

import threading
from typing import Any

from murmurnet.blackboard.base import WriteListener
from murmurnet.types import BlackboardEntry, EntryKind


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

    def subscribe(self, listener: WriteListener) -> None:
        self.listeners.append(listener)

    def entries(self, kind: EntryKind | None = None) -> list[BlackboardEntry]:
        with self._lock:
            return [e for e in self._entries if kind is None or e.kind is kind]


def in_memory(run_id: str, listeners: list[WriteListener]) -> InMemoryBlackboard:
    """The default `BlackboardFactory`."""
    return InMemoryBlackboard(listeners=listeners)
