"""One pydantic-settings model feeds the CLI flags, `MURMURNET_*` env vars and the YAML file.

This package is a leaf: it names backends by type only and never imports one, so reading a
configuration never loads torch or llama.cpp.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.config.monitoring import MonitoringSettings
from murmurnet.config.pool import EndpointSpec, PoolSettings
from murmurnet.config.ray_serve import RayServeSettings
from murmurnet.config.scale_advice import ScaleAdviceSettings
from murmurnet.config.sources import FILE_DATA, FileSource

DEFAULT_MODEL = "qwen2.5-0.5b"
DEFAULT_CHOICE_MODEL = "gemma-3-270m"
"""The bundled base model that ranks a question's listed options when the agents run the
bundled default: on JCommonsenseQA dev rows 151-300 it chose right on 58.7 % of rows, the
agents' model on 29.3 % (benchmarks/results/choice-scorer-model/)."""
ENV_PREFIX = "MURMURNET_"


def default_cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "murmurnet"


class ModelSpec(BaseModel):
    """A named model: which backend loads it and from where."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        "llama_cpp", description="Backend: llama_cpp, transformers, openai, pool, scripted."
    )
    bundled: str | None = Field(
        None, description="Name of a bundled model (see `murmurnet models`)."
    )
    path: Path | None = Field(None, description="GGUF file (llama_cpp) or local model folder.")
    hf_name: str | None = Field(None, description="Hugging Face model id (transformers).")
    url: str | None = Field(None, description="Base URL of an OpenAI-compatible server.")
    api_model: str | None = Field(None, description="Model name to send to the server.")
    api_key: str | None = Field(None, description="Bearer token for the server.")
    context_size: int = Field(4096, ge=256, le=131072)
    template: Literal["auto", "chatml", "completion"] = Field(
        "auto",
        description="auto reads the chat template from the model; completion is for base models.",
    )
    sha256: str | None = Field(None, description="Expected checksum of the model file.")
    threads: int | None = Field(None, ge=1)
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for a server (openai).")
    retries: int = Field(2, ge=0, le=10)
    responses: list[str] = Field(default_factory=list, description="Replies (scripted only).")
    word_delay: float = Field(
        0.0, ge=0, le=10, description="Seconds per streamed word (scripted only: a slow fake)."
    )
    endpoints: list[EndpointSpec] = Field(
        default_factory=list, description="Servers of a pool model (type: pool)."
    )
    endpoint_pool: PoolSettings | None = Field(
        None, description="This pool model's own routing and health settings (pool only)."
    )

    @field_validator("type")
    @classmethod
    def _known_spelling(cls, value: str) -> str:
        return backend_type(value)

    def identity(self) -> tuple[str, ...]:
        """Two specs with one identity share one loaded instance."""
        return (
            self.type,
            str(self.bundled),
            str(self.path),
            str(self.hf_name),
            str(self.url),
            str(self.api_model),
            *(endpoint.url for endpoint in self.endpoints),
        )


class RoleSpec(BaseModel):
    """One internal agent's role: its persona and instruction go last in its prompt."""

    model_config = ConfigDict(extra="forbid")

    title: str
    persona: str
    instruction: str
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    tool: Literal["python"] | None = Field(
        None, description="python: the reply's program is run by the calculator"
    )
    more_instructions: list[str] = Field(
        default_factory=list,
        description=(
            "on the short-answer path, each asked too, in the same batch: one more reply"
            " and ballot per instruction"
        ),
    )


def cli(help_text: str, **extra: Any) -> Any:
    """Mark a setting as a command-line flag (named after the field, `_` → `-`)."""
    return {"cli": True, "help": help_text, **extra}


class RunConfig(BaseSettings):
    """Everything a murmur run needs. Field names are the flag and env names."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", validate_default=True, populate_by_name=True
    )

    model_type: str | None = Field(
        None, json_schema_extra=cli("backend of the default model: llama, huggingface, openai")
    )
    model_name: str | None = Field(
        None, json_schema_extra=cli("model name: bundled name, Hugging Face id or server model")
    )
    model_path: Path | None = Field(None, json_schema_extra=cli("path to a GGUF file"))
    internal_model: str | None = Field(None, json_schema_extra=cli("model of the internal agents"))
    summary_model: str | None = Field(None, json_schema_extra=cli("model of the summary engine"))
    output_model: str | None = Field(None, json_schema_extra=cli("model of the output agent"))
    choice_model: str | None = Field(
        None,
        json_schema_extra=cli(
            "model that ranks a question's listed options by likelihood (default: the bundled "
            f"{DEFAULT_CHOICE_MODEL} base model when the agents run the bundled default, "
            "else the agents' model)"
        ),
    )
    agents: int = Field(2, ge=1, le=16, json_schema_extra=cli("number of internal agents (1-16)"))
    iterations: int = Field(1, ge=1, le=10, json_schema_extra=cli("rounds of discussion (1-10)"))
    internal_temp: float = Field(0.7, ge=0.0, le=2.0, json_schema_extra=cli("agent temperature"))
    output_temp: float = Field(0.7, ge=0.0, le=2.0, json_schema_extra=cli("output temperature"))
    summary_temp: float = Field(0.6, ge=0.0, le=2.0, json_schema_extra=cli("summary temperature"))
    internal_tokens: int = Field(200, ge=1, le=8192, json_schema_extra=cli("max tokens per agent"))
    output_tokens: int = Field(
        250, ge=1, le=8192, json_schema_extra=cli("max tokens of the answer")
    )
    answer_tokens: int = Field(
        512,
        ge=1,
        le=8192,
        json_schema_extra=cli(
            "max tokens of a direct answer with its working (plain, self-consistency, and the "
            "short-answer path's answers)"
        ),
    )
    summary_tokens: int = Field(150, ge=1, le=8192, json_schema_extra=cli("max tokens per summary"))
    samples: int = Field(
        3, ge=1, le=16, json_schema_extra=cli("self-consistency: answers voted on (first greedy)")
    )
    strategy: Literal["murmur", "plain", "plain+likelihood", "single", "self-consistency"] = Field(
        "murmur",
        json_schema_extra=cli(
            "murmur (agents, rounds, output); plain (the question alone, greedy); "
            "plain+likelihood (the likeliest listed option); single (one answer with the "
            "assistant's instructions) or self-consistency (--samples answers, voted)"
        ),
    )
    vote_weight: Literal["count", "confidence"] = Field(
        "count",
        json_schema_extra=cli(
            "short-answer vote: one vote per answer (count), or each answer weighed by the "
            "model's probability of the tokens that end it (confidence)"
        ),
    )
    choice_answer: Literal["likelihood", "vote"] = Field(
        "likelihood",
        json_schema_extra=cli(
            "short-answer path, a question that lists options: the option the model finds "
            "likeliest answers, the agents not asked (likelihood), or the agents answer and "
            "vote, the options' likelihood one voter among them (vote)"
        ),
    )
    split_vote: Literal["plain", "discuss"] = Field(
        "plain",
        json_schema_extra=cli(
            "short-answer path, when no answer holds more than half of the votes: keep the "
            "plain answer (plain), or summarise, hold a second round in which each agent sees "
            "the others' answers anonymised, and let the output agent answer (discuss)"
        ),
    )
    open_answer: Literal["plain", "pivot", "agreement", "discuss"] = Field(
        "pivot",
        json_schema_extra=cli(
            "an open question (explain, advise, list) without documents, with one round and "
            "no --consensus: a Japanese one answered in English and written back in Japanese, "
            "an English one plainly (pivot); the plain answer (plain); the plain answer and "
            "each role's in one batch, the one the others agree with most shown (agreement); "
            "or agents, a summary and the output agent (discuss, as with documents, more "
            "rounds, a consensus or --language). A blind judge preferred plain to agreement "
            "and discuss, and pivot to plain on Japanese questions"
        ),
    )
    consensus: Literal["none", "vote", "leader", "bft", "rank"] = Field(
        "none",
        json_schema_extra=cli("agreement among the last round's answers before the output"),
    )
    kb: str | None = Field(
        None, json_schema_extra=cli("knowledge base whose passages ground the answer")
    )
    top_k: int = Field(3, ge=1, le=20, json_schema_extra=cli("passages retrieved per question"))
    rag: bool = Field(True, json_schema_extra=cli("use the knowledge base (--no-rag turns it off)"))
    parallel: bool = Field(
        True, json_schema_extra=cli("run a round's agents as one batch (--no-parallel: one by one)")
    )
    summary: bool = Field(True, json_schema_extra=cli("summarise each round (--no-summary skips)"))
    local_files: bool = Field(
        True,
        json_schema_extra=cli(
            "use only local Hugging Face files (--no-local-files allows a hub fetch)"
        ),
    )
    cache_folder: Path = Field(
        default_factory=default_cache_folder,
        json_schema_extra=cli("where models and sessions are kept"),
    )
    seed: int | None = Field(None, json_schema_extra=cli("random seed for reproducible runs"))
    debug: bool = Field(False, json_schema_extra=cli("print a table of every stage and agent"))
    log: Path | None = Field(None, json_schema_extra=cli("write every blackboard write as JSONL"))
    language: Literal["auto", "ja", "en"] = Field(
        "auto", json_schema_extra=cli("answer language (auto: the question's)")
    )
    threads: int | None = Field(None, ge=1, le=256, json_schema_extra=cli("CPU threads"))
    context_size: int | None = Field(
        None, ge=256, le=131072, json_schema_extra=cli("context window of local models")
    )
    models: dict[str, ModelSpec] = Field(default_factory=dict, description="Named models.")
    roles: dict[str, RoleSpec] = Field(default_factory=dict, description="Extra or changed roles.")
    role_files: list[Path] = Field(default_factory=list, description="YAML role files to load.")
    role_map: dict[str, list[str]] = Field(
        default_factory=dict, description="Question type → ordered role names."
    )
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Named murmurs the server offers as models: settings that differ from "
        "these (agents, iterations, models, consensus, kb, …).",
    )
    monitoring: MonitoringSettings = Field(
        default_factory=MonitoringSettings,
        description="/metrics, and the Prometheus and Alertmanager files "
        "`murmurnet monitoring` writes (the original project's section, same keys).",
    )
    endpoint_pool: PoolSettings = Field(
        default_factory=PoolSettings,
        description="How pool models (type: pool) route rounds among their endpoints, check "
        "them and take failing ones out (the original's distributed_coordination maps here).",
    )
    blackboard: BlackboardSettings = Field(
        default_factory=BlackboardSettings,
        description="Where runs' entries live: memory, or a Redis stream per run that other "
        "processes share and `murmurnet watch` follows.",
    )
    ray_serve: RayServeSettings = Field(
        default_factory=RayServeSettings,
        description="`serve --ray`: the Ray cluster, model replicas' autoscaling and failover "
        "(the original's autoscaling section maps here).",
    )
    scale_advice: ScaleAdviceSettings = Field(
        default_factory=ScaleAdviceSettings,
        description="What `murmurnet scale-advice` (experimental) aims for: replica bounds, "
        "forecast horizon, cooldowns (the original's autoscaling section maps here too).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, FileSource(settings_cls, FILE_DATA.get() or {})

    @model_validator(mode="after")
    def _ranking_needs_three_agents(self) -> Self:
        """With two agents each ranks the one answer it is shown, so every answer scores 0
        Borda points and none can lead: the ranking calls would be spent for nothing."""
        if self.consensus == "rank" and self.agents < 3:
            raise ValueError(
                f"consensus 'rank' needs at least 3 agents, got {self.agents}: each agent ranks "
                "the others' answers (use agents 3 or more, or consensus 'vote')"
            )
        return self

    def model_for(self, stage: Literal["internal", "summary", "output", "choice"]) -> str:
        """The model name a stage uses; summary and output fall back to the internal model,
        and so does the choice scorer unless the agents run the bundled default model."""
        if stage == "choice":
            return self.choice_model or (
                DEFAULT_CHOICE_MODEL if self._runs_bundled_default() else self.model_for("internal")
            )
        chosen = {
            "internal": self.internal_model,
            "summary": self.summary_model,
            "output": self.output_model,
        }[stage]
        return chosen or self.internal_model or DEFAULT_ALIAS

    def _runs_bundled_default(self) -> bool:
        """Whether the agents' model is the bundled default, named by no flag or file."""
        return (
            self.model_for("internal") == DEFAULT_ALIAS
            and DEFAULT_ALIAS not in self.models
            and self.model_path is None
            and self.model_name in (None, DEFAULT_MODEL)
            and (self.model_type is None or backend_type(self.model_type) == "llama_cpp")
        )


DEFAULT_ALIAS = "default"
"""The model name every stage uses unless the configuration names others."""

BACKEND_ALIASES = {
    "llama": "llama_cpp",
    "llama.cpp": "llama_cpp",
    "gguf": "llama_cpp",
    "huggingface": "transformers",
    "hf": "transformers",
    "openai_http": "openai",
}


def backend_type(kind: str) -> str:
    """The registered name of a backend type, from any of its spellings (flag or YAML)."""
    return BACKEND_ALIASES.get(kind.lower(), kind.lower())
