"""The `--log` file: every run event as one JSON line, appended and flushed as it comes."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from murmurnet.errors import ConfigError
from murmurnet.events.types import RunEvent


class JsonlLog:
    """A subscriber; opening fails at once with a one-line error if the file cannot be written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] | None = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write log file {path}: {exc.strerror}") from None

    def __call__(self, event: RunEvent) -> None:
        if self._file is not None:
            self._file.write(event.model_dump_json() + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
