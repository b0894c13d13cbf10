"""Conversation memory: earlier turns reach the next turn's blackboard; sessions persist.

A session file is replaced atomically (temporary file in the same folder, flushed to disk,
then renamed over the old one), so an interrupted run, a full disk or a folder that cannot
be written never leaves a half-written conversation: the previous file stays as it was.
Both directions fail with a one-line ConfigError naming the file, never a traceback, and a
damaged file is never silently replaced by a fresh conversation (the next save would
overwrite what the user had).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import suppress
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from murmurnet.errors import ConfigError, InputError

_SESSION_NAME = re.compile(r"^[\w.-]{1,64}$")


class Turn(BaseModel):
    question: str
    answer: str


class Conversation(BaseModel):
    turns: list[Turn] = Field(default_factory=list)

    def add(self, question: str, answer: str) -> None:
        self.turns.append(Turn(question=question, answer=answer))

    def reset(self) -> None:
        self.turns.clear()


def session_path(cache_folder: Path, name: str) -> Path:
    if not _SESSION_NAME.match(name):
        raise InputError(
            f"invalid session name {name!r}", hint="use letters, digits, '.', '_' or '-'"
        )
    return cache_folder / "sessions" / f"{name}.json"


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _first_problem(exc: ValidationError) -> str:
    """What is wrong with a session file, in a few words (pydantic's own text is long)."""
    errors = exc.errors()
    if not errors:
        return "not a session file"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = " ".join(str(first.get("msg", "")).split())
    return f"{where}: {message}" if where else message


def load_session(path: Path) -> Conversation:
    """The conversation saved at `path`; a new one when no file is there yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Conversation()
    except OSError as exc:
        raise ConfigError(
            f"cannot read session file {path} ({_why(exc)})",
            hint="check the file and its folder, or use another --session name",
        ) from exc
    try:
        return Conversation.model_validate_json(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"session file {path} is damaged ({_first_problem(exc)})",
            hint="move it away to start a new session",
        ) from exc


def save_session(path: Path, conversation: Conversation) -> None:
    """Replace the session at `path` atomically; ConfigError naming it if that fails.

    The new file is created 0600: a conversation is private. On any failure (the folder
    cannot be made or written, the disk is full, `path` is a folder) the temporary file is
    removed and the previous session file is left untouched.
    """
    data = json.dumps(conversation.model_dump(), ensure_ascii=False, indent=2).encode("utf-8")
    temporary: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        temporary = Path(name)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        raise ConfigError(
            f"cannot save session file {path} ({_why(exc)})",
            hint="check the free disk space and the folder's permissions",
        ) from exc
    finally:
        if temporary is not None:  # failed or interrupted (Ctrl-C) before the rename
            with suppress(OSError):
                temporary.unlink()
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; best effort (not every system can open a folder)."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
