"""The Python entry point: `MurmurNet(RunConfig(...)).ask("…")`."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from murmurnet.config import RunConfig
from murmurnet.errors import ConfigError
from murmurnet.memory import Conversation
from murmurnet.models.base import Backend
from murmurnet.models.registry import ModelPool
from murmurnet.murmur.pipeline import Orchestrator
from murmurnet.types import Answer


class MurmurNet:
    """A murmur of agents over loaded models; models load on first use and are shared.

    `backends` maps model names to ready backends (a `ScriptedBackend` in tests); the
    name "default" is the model every stage uses unless the config names others.
    """

    def __init__(
        self,
        config: RunConfig | None = None,
        *,
        backends: Mapping[str, Backend] | None = None,
        conversation: Conversation | None = None,
    ) -> None:
        self.config = config or RunConfig()
        self.pool = ModelPool(self.config, backends)
        self.conversation = conversation if conversation is not None else Conversation()
        self._log: IO[str] | None = None
        if self.config.log is not None:
            try:
                Path(self.config.log).parent.mkdir(parents=True, exist_ok=True)
                self._log = Path(self.config.log).open("a", encoding="utf-8")  # noqa: SIM115
            except OSError as exc:
                raise ConfigError(
                    f"cannot write log file {self.config.log}: {exc.strerror}"
                ) from None
        self._orchestrator = Orchestrator(self.config, self.pool, self._write_event)

    def ask(self, question: str, on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer one question; earlier turns of this conversation reach the blackboard."""
        answer = self._orchestrator.run(question, self.conversation.turns, on_token)
        self.conversation.add(question.strip(), answer.text)
        return answer

    def _write_event(self, event: dict[str, Any]) -> None:
        if self._log is not None:
            self._log.write(json.dumps(event, ensure_ascii=False) + "\n")
            self._log.flush()

    def close(self) -> None:
        self.pool.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> MurmurNet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
