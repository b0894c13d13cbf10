"""The OpenAI chat API's request and response shapes, as the `openai` client and Open WebUI
send and read them. Fields this server does not use (`top_p`, `n`, `user`, …) are accepted
and ignored, since clients send them by default; the ones it uses are validated."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_MESSAGES = 256
MAX_TEXT = 100_000


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text: a string, or the text parts of a list of content parts."""
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(None, ge=1, le=8192)
    seed: int | None = None
    stop: str | list[str] | None = None

    @field_validator("messages")
    @classmethod
    def _bounded_text(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        total = sum(len(m.text()) for m in messages)
        if total > MAX_TEXT:
            raise ValueError(f"the messages hold {total} characters; at most {MAX_TEXT}")
        return messages

    @field_validator("stop")
    @classmethod
    def _few_stops(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 4:
            raise ValueError("at most 4 stop sequences")
        return stop


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class MurmurRequest(BaseModel):
    """`POST /v1/murmur`: one question to a profile, answered with its whole blackboard."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_TEXT)
    model: str = Field("murmur", min_length=1)
    wait: bool = Field(True, description="false: answer 202 with the run's id at once")
