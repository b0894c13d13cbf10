"""One pydantic-settings model feeds the CLI flags, `MURMURNET_*` env vars and the YAML file.

Precedence is flags > environment > file > defaults. Every error names the key and where
the value came from, because a user fixing a config needs to know which file to open.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from murmurnet.errors import ConfigError

DEFAULT_MODEL = "qwen2.5-0.5b"
ENV_PREFIX = "MURMURNET_"


def default_cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "murmurnet"


class ModelSpec(BaseModel):
    """A named model: which backend loads it and from where."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        "llama_cpp", description="Backend: llama_cpp, transformers, openai, scripted."
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

    def identity(self) -> tuple[str, ...]:
        """Two specs with one identity share one loaded instance."""
        return (
            self.type,
            str(self.bundled),
            str(self.path),
            str(self.hf_name),
            str(self.url),
            str(self.api_model),
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
    agents: int = Field(2, ge=1, le=16, json_schema_extra=cli("number of internal agents (1-16)"))
    iterations: int = Field(1, ge=1, le=10, json_schema_extra=cli("rounds of discussion (1-10)"))
    internal_temp: float = Field(0.7, ge=0.0, le=2.0, json_schema_extra=cli("agent temperature"))
    output_temp: float = Field(0.7, ge=0.0, le=2.0, json_schema_extra=cli("output temperature"))
    summary_temp: float = Field(0.6, ge=0.0, le=2.0, json_schema_extra=cli("summary temperature"))
    internal_tokens: int = Field(200, ge=1, le=8192, json_schema_extra=cli("max tokens per agent"))
    output_tokens: int = Field(
        250, ge=1, le=8192, json_schema_extra=cli("max tokens of the answer")
    )
    summary_tokens: int = Field(150, ge=1, le=8192, json_schema_extra=cli("max tokens per summary"))
    strategy: Literal["murmur", "single", "self-consistency"] = Field(
        "murmur",
        json_schema_extra=cli(
            "murmur (agents, rounds, output), single (one answer) or self-consistency "
            "(samples + majority vote, same token budget)"
        ),
    )
    consensus: Literal["none", "vote", "leader", "bft"] = Field(
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _FileSource(settings_cls, _FILE_DATA.get() or {})

    def model_for(self, stage: Literal["internal", "summary", "output"]) -> str:
        """The model name a stage uses; summary and output fall back to the internal model."""
        chosen = {
            "internal": self.internal_model,
            "summary": self.summary_model,
            "output": self.output_model,
        }[stage]
        return chosen or self.internal_model or self.model_name or _DEFAULT_ALIAS

    def resolve_model(self, name: str) -> ModelSpec:
        """Turn a model name from a flag or the file into a spec a backend can load."""
        if name in self.models:
            return self.models[name]
        if name == _DEFAULT_ALIAS:
            return self._default_spec()
        from murmurnet.models.builtin import BUNDLED

        if name in BUNDLED:
            return ModelSpec(bundled=name, template=BUNDLED[name].template)
        if name.endswith(".gguf") or Path(name).is_file():
            return ModelSpec(path=Path(name))
        kind = _normalise_type(self.model_type)
        if kind == "transformers":
            return ModelSpec(type=kind, hf_name=name)
        from murmurnet.errors import ModelNotFoundError

        known = sorted({*self.models, *BUNDLED})
        raise ModelNotFoundError(
            f"unknown model {name!r}",
            hint=f"known models: {', '.join(known)}; or pass a .gguf path",
        )

    def _default_spec(self) -> ModelSpec:
        kind = _normalise_type(self.model_type)
        if self.model_path is not None:
            return ModelSpec(type=kind or "llama_cpp", path=self.model_path)
        if kind == "transformers":
            if not self.model_name:
                raise ConfigError("--model-type huggingface needs --model-name or --model-path")
            return ModelSpec(type=kind, hf_name=self.model_name)
        if kind == "openai":
            url = os.environ.get("OPENAI_BASE_URL")
            if not url:
                raise ConfigError(
                    "--model-type openai needs a server URL",
                    hint="define a model with `url:` in the config file or set OPENAI_BASE_URL",
                )
            return ModelSpec(type=kind, url=url, api_model=self.model_name)
        return self.resolve_model(self.model_name or DEFAULT_MODEL)


_DEFAULT_ALIAS = "default"
_TYPE_ALIASES = {
    "llama": "llama_cpp",
    "llama.cpp": "llama_cpp",
    "gguf": "llama_cpp",
    "huggingface": "transformers",
    "hf": "transformers",
    "openai_http": "openai",
}


def _normalise_type(kind: str | None) -> str | None:
    return _TYPE_ALIASES.get(kind, kind) if kind else None


_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar("murmurnet_file_data", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """Values from the YAML file, below flags and environment in precedence."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


# Sections of the original project's config.yaml that map onto features of later issues;
# they are accepted (so an existing file keeps working) and validated for their key values.
LEGACY_SECTIONS = {
    "distributed_coordination",
    "monitoring",
    "autoscaling",
    "performance_optimization",
}
_LEGACY_CHOICES = {
    "consensus_algorithm": {"simple_majority", "raft", "pbft"},
    "compression_algorithm": {"lz4", "zstd"},
}


# The original's agreement names, mapped onto this project's protocols.
_LEGACY_CONSENSUS = {"simple_majority": "vote", "raft": "leader", "pbft": "bft"}


def read_config_file(path: Path) -> dict[str, Any]:
    """Read and shape-check the YAML file; unknown keys are errors naming key and file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must be a mapping of settings")
    data: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name in LEGACY_SECTIONS:
            _check_legacy(path, name, value)
            algorithm = value.get("consensus_algorithm")
            if algorithm is not None:
                data.setdefault("consensus", _LEGACY_CONSENSUS[algorithm])
            continue
        if name not in RunConfig.model_fields:
            raise ConfigError(
                f"unknown key {key!r} in config file {path}",
                hint="see `murmurnet ask --help` or examples/ for valid keys",
            )
        data[name] = value
    return data


def _check_legacy(path: Path, section: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"section {section!r} in config file {path} must be a mapping")
    for key, choices in _LEGACY_CHOICES.items():
        if key in value and value[key] not in choices:
            raise ConfigError(
                f"invalid {section}.{key} {value[key]!r} in config file {path}",
                hint=f"choose one of {', '.join(sorted(choices))}",
            )


def load_config(flags: dict[str, Any] | None = None, config_file: Path | None = None) -> RunConfig:
    """Build the run settings from flags, environment and an optional YAML file."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    file_data = read_config_file(config_file) if config_file else {}
    token = _FILE_DATA.set(file_data)
    try:
        return RunConfig(**flags)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, flags, file_data, config_file)) from None
    finally:
        _FILE_DATA.reset(token)


def _describe(
    exc: ValidationError, flags: dict[str, Any], file_data: dict[str, Any], path: Path | None
) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc) if loc else "?"
    top = loc[0] if loc else ""
    if top in flags:
        origin = f"flag --{top.replace('_', '-')}"
    elif ENV_PREFIX + top.upper() in os.environ:
        origin = f"environment variable {ENV_PREFIX}{top.upper()}"
    elif top in file_data:
        origin = f"config file {path}"
    else:
        origin = "settings"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        return f"unknown key {key!r} in {origin}"
    return f"invalid value for {key!r} in {origin}: {message}"
