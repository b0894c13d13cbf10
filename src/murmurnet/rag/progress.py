"""The indexing progress bar, on stderr so that piped output stays clean.

Files are the bar's unit because their number is known up front; a ZIM archive, which can
hold millions of articles in one file, gets a second bar of its own.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any


class IndexProgress:
    """Two rich bars (files, and documents of a large file); does nothing when disabled."""

    def __init__(self, enabled: bool, total_files: int) -> None:
        self._bar: Any = None
        self._files: Any = None
        self._documents: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._files = self._bar.add_task("files", total=total_files)

    def __enter__(self) -> IndexProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start_file(self, name: str, documents: int | None = None) -> None:
        if self._bar is None:
            return
        self._bar.update(self._files, description=f"files: {name}")
        if self._documents is not None:
            self._bar.remove_task(self._documents)
            self._documents = None
        if documents:
            self._documents = self._bar.add_task("  articles", total=documents)

    def document_done(self) -> None:
        if self._documents is not None:
            self._bar.advance(self._documents)

    def file_done(self) -> None:
        if self._bar is not None:
            self._bar.advance(self._files)
