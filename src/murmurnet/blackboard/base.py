"""What agents share: the blackboard Protocol, its listeners and the factory a runtime takes.

The pipeline only ever sees this Protocol, so an in-memory board, a Redis stream or any
other store can hold a run's entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from murmurnet.types import BlackboardEntry, EntryKind

WriteListener = Callable[[BlackboardEntry], None]
"""Called with every entry right after it is written (logs, live views, events)."""


class Blackboard(Protocol):
    """What agents share; listeners see every write, in order."""

    @property
    def version(self) -> int: ...

    def write(self, kind: EntryKind, text: str, **meta: Any) -> BlackboardEntry: ...

    def entries(self, kind: EntryKind | None = None) -> list[BlackboardEntry]: ...

    def subscribe(self, listener: WriteListener) -> None:
        """Call `listener` with every later write, in order."""
        ...


BlackboardFactory = Callable[[str, list[WriteListener]], Blackboard]
"""Makes the blackboard of one run from its id and the listeners of that run."""
