"""Conversation memory: earlier turns reach the next turn's blackboard; sessions persist.

A session file is replaced atomically (temporary file + rename), so an interrupted run
never leaves a half-written conversation.
"""

from __future__ import annotations

import json
import os
import re
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


def load_session(path: Path) -> Conversation:
    if not path.exists():
        return Conversation()
    try:
        return Conversation.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(
            f"session file {path} is damaged: {type(exc).__name__}",
            hint="move it away to start a new session",
        ) from None


def save_session(path: Path, conversation: Conversation) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(
        json.dumps(conversation.model_dump(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    os.replace(temporary, path)
