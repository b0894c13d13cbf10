"""Typed messages shared by the core and every backend."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """One chat message; backends turn a list of them into a prompt with their template."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class GenerationRequest(BaseModel):
    """What one agent asks of a model. A round of agents is a list of these."""

    messages: list[Message]
    max_tokens: int = Field(200, ge=1)
    temperature: float = Field(0.7, ge=0.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    top_k: int = Field(40, ge=0)
    min_p: float = Field(0.0, ge=0.0, le=1.0)
    repeat_penalty: float = Field(1.1, ge=0.0)
    seed: int | None = None
    stop: list[str] = Field(default_factory=list)
    ignore_eos: bool = Field(
        False, description="Never end on an end-of-generation token (benchmarks: fixed length)."
    )
    repeat_guard: bool = Field(
        True,
        description="End the reply where it starts to loop: a whole line, or two sentences in "
        "a row, written before, or a phrase four times in a row (small models loop; an "
        "OpenAI-compatible server's stream is closed there).",
    )
    logprobs: bool = Field(
        False, description="Return each generated token's log-probability (confidence)."
    )
    japanese_only: bool = Field(
        False,
        description="Write only what Japanese is written with: a Japanese answer from a small "
        "multilingual model can slip into Korean mid-word, or into simplified Chinese "
        "characters (太阳 for 太陽) (llama.cpp models; other backends ignore it).",
    )
    tag: str = Field("", description="Who is asking (stage/agent), for logs and debug tables.")


class Completion(BaseModel):
    """A backend's answer to one request, with the counts needed for timings."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = Field(
        0, description="Prompt tokens kept in the KV cache from an earlier call (not decoded)."
    )
    seconds: float = Field(0.0, description="From admission to the last token.")
    queue_seconds: float = Field(0.0, description="From submission to admission.")
    first_token_seconds: float | None = Field(
        None, description="From submission to the first generated token (None: no token)."
    )
    prefill_seconds: float = Field(0.0, description="Decoding the prompt (shared by a batch).")
    decode_seconds: float = Field(0.0, description="Generating the reply's tokens.")
    finish_reason: Literal["stop", "length", "cancelled"] = "stop"
    token_logprobs: list[float] = Field(
        default_factory=list,
        description="Natural-log probability of each generated token under the model, before "
        "sampling settings; filled only when the request asked for `logprobs`.",
    )

    @property
    def mean_logprob(self) -> float | None:
        """The reply's average token log-probability: a confidence (None: not asked)."""
        if not self.token_logprobs:
            return None
        return sum(self.token_logprobs) / len(self.token_logprobs)


class ContinuationScore(BaseModel):
    """How likely a model finds one given text right after a prompt."""

    text: str
    logprob: float = Field(description="Sum of the text's token log-probabilities (natural log).")
    tokens: int = Field(ge=1)

    @property
    def per_char(self) -> float:
        """Length-normalised by characters, so a longer choice is not punished for its length
        and tokenisers with different vocabularies compare alike."""
        return self.logprob / max(len(self.text), 1)


NO_AGREEMENT = "-"
"""The text of an agreement entry when the agents agreed on nothing: kept on the blackboard
as a record of the vote, never shown to an agent as an answer."""


class EntryKind(StrEnum):
    QUESTION = "question"
    HISTORY = "history"
    PASSAGE = "passage"
    CONTRIBUTION = "contribution"
    SUMMARY = "summary"
    AGREEMENT = "agreement"
    FINAL = "final"


class BlackboardEntry(BaseModel):
    """One immutable write to the blackboard."""

    model_config = ConfigDict(frozen=True)

    version: int
    kind: EntryKind
    text: str
    round: int = 0
    agent: int | None = None
    role: str | None = None
    source: str | None = None
    created: float = Field(default_factory=time.time)


class StageTiming(BaseModel):
    """One model call (or one batch of calls) as shown by `--debug` and written by `--log`."""

    stage: str
    agent: int | None = None
    role: str | None = None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    seconds: float
    queue_seconds: float = 0.0
    first_token_seconds: float | None = None
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    finish_reason: Literal["stop", "length", "cancelled"] = "stop"

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


class Answer(BaseModel):
    """The result of one `ask`: the reply and everything needed to see how it was made."""

    run_id: str = ""
    text: str
    strategy: str = "murmur"
    language: Literal["ja", "en"]
    question_type: str
    entries: list[BlackboardEntry]
    timings: list[StageTiming]
    stage_seconds: dict[str, float]
    total_seconds: float

    @property
    def prompt_tokens(self) -> int:
        return sum(t.prompt_tokens for t in self.timings)

    @property
    def completion_tokens(self) -> int:
        return sum(t.completion_tokens for t in self.timings)

    @property
    def finish_reason(self) -> Literal["stop", "length"]:
        """ "length" when the reply was written by a model call (the output stage) that ran
        out of tokens; "stop" otherwise, a voted answer included."""
        written = [t for t in self.timings if t.stage == "output"]
        return "length" if written and written[-1].finish_reason == "length" else "stop"

    def contributions(self) -> list[BlackboardEntry]:
        return [e for e in self.entries if e.kind is EntryKind.CONTRIBUTION]

    def summaries(self) -> list[BlackboardEntry]:
        return [e for e in self.entries if e.kind is EntryKind.SUMMARY]
