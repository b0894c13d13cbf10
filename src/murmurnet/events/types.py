"""Typed events of one run, published by the pipeline to every subscriber.

They are what a log file, the metrics and a live page need to follow a run as it happens:
each carries the run's id, the time, and a `type` tag that names it in JSON.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from murmurnet.types import BlackboardEntry


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    time: float = Field(default_factory=time.time)


class RunStarted(_Event):
    type: Literal["run_started"] = "run_started"
    question: str
    strategy: str
    language: str
    question_type: str


class StageStarted(_Event):
    type: Literal["stage_started"] = "stage_started"
    stage: str
    agents: int = 1


class StageFinished(_Event):
    type: Literal["stage_finished"] = "stage_finished"
    stage: str
    seconds: float


class EntryWritten(_Event):
    type: Literal["entry_written"] = "entry_written"
    entry: BlackboardEntry


class TokenStreamed(_Event):
    type: Literal["token"] = "token"
    stage: str
    agent: int | None = None
    role: str | None = None
    text: str


class ModelCalled(_Event):
    """One request's counts and timings, as the metrics need them."""

    type: Literal["model_call"] = "model_call"
    stage: str
    tag: str
    model: str
    agent: int | None = None
    role: str | None = None
    temperature: float
    max_tokens: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    seconds: float
    queue_seconds: float = 0.0
    first_token_seconds: float | None = None
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    finish_reason: str


class AgreementReached(_Event):
    type: Literal["agreement"] = "agreement"
    protocol: str
    committed: bool
    supporters: int
    agents: int
    log: list[str]


class RunFinished(_Event):
    type: Literal["run_finished"] = "run_finished"
    answer: str
    seconds: float


class RunFailed(_Event):
    type: Literal["run_failed"] = "run_failed"
    error: str
    error_type: str


class RunCancelled(_Event):
    type: Literal["run_cancelled"] = "run_cancelled"
    reason: str


RunEvent = Annotated[
    RunStarted
    | StageStarted
    | StageFinished
    | EntryWritten
    | TokenStreamed
    | ModelCalled
    | AgreementReached
    | RunFinished
    | RunFailed
    | RunCancelled,
    Field(discriminator="type"),
]
"""Any event; `pydantic.TypeAdapter(RunEvent)` reads one back from JSON."""
