"""Reading the YAML configuration file and building `RunConfig` from flags, env and file.

Precedence is flags > environment > file > defaults. Every error names the key and where
the value came from, because a user fixing a config needs to know which file to open.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from murmurnet.config.blackboard import from_legacy_performance
from murmurnet.config.pool import from_legacy_coordination
from murmurnet.config.ray_serve import from_legacy_autoscaling
from murmurnet.config.settings import ENV_PREFIX, RunConfig
from murmurnet.config.sources import FILE_DATA
from murmurnet.errors import ConfigError

# Sections of the original project's config.yaml that map onto features of later issues;
# they are accepted (so an existing file keeps working) and validated for their key values.
LEGACY_SECTIONS = {
    "distributed_coordination",
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
    legacy_pool: dict[str, Any] = {}
    legacy_board: dict[str, Any] = {}
    legacy_ray: dict[str, Any] = {}
    legacy_advice: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name in LEGACY_SECTIONS:
            _check_legacy(path, name, value)
            if name == "distributed_coordination":
                legacy_pool = from_legacy_coordination(value, path)
            if name == "autoscaling":
                legacy_scaling = from_legacy_autoscaling(value, path)
                legacy_ray = legacy_scaling["ray_serve"]
                legacy_advice = legacy_scaling["scale_advice"]
            algorithm = value.get("consensus_algorithm")
            if algorithm is not None:
                data.setdefault("consensus", _LEGACY_CONSENSUS[algorithm])
            if name == "performance_optimization":
                legacy_board = from_legacy_performance(value, path)
            continue
        if name not in RunConfig.model_fields:
            raise ConfigError(
                f"unknown key {key!r} in config file {path}",
                hint="see `murmurnet ask --help` or examples/ for valid keys",
            )
        data[name] = value
    if legacy_board and isinstance(data.get("blackboard", {}), dict):
        # The file's own `blackboard` section wins over what the original's key implies.
        data["blackboard"] = {**legacy_board, **data.get("blackboard", {})}
    if legacy_pool and isinstance(data.get("endpoint_pool", {}), dict):
        # The file's own `endpoint_pool` section wins over the original's keys.
        data["endpoint_pool"] = {**legacy_pool, **data.get("endpoint_pool", {})}
    own_ray = data.get("ray_serve", {})
    if legacy_ray and isinstance(own_ray, dict) and isinstance(own_ray.get("models", {}), dict):
        # The file's own `ray_serve.models` keys win over the original's.
        models = {**legacy_ray["models"], **own_ray.get("models", {})}
        data["ray_serve"] = {**own_ray, "models": models}
    if legacy_advice and isinstance(data.get("scale_advice", {}), dict):
        # The file's own `scale_advice` keys win over the original's.
        data["scale_advice"] = {**legacy_advice, **data.get("scale_advice", {})}
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
    token = FILE_DATA.set(file_data)
    try:
        return RunConfig(**flags)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, flags, file_data, config_file)) from None
    finally:
        FILE_DATA.reset(token)


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The first error's setting ("" for a rule across settings) and its message, without
    pydantic's "Value error, " prefix."""
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    return key, str(error["msg"]).removeprefix("Value error, ")


def _describe(
    exc: ValidationError, flags: dict[str, Any], file_data: dict[str, Any], path: Path | None
) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    key, message = first_error(exc)
    top = loc[0] if loc else ""
    if top in flags:
        origin = f"flag --{top.replace('_', '-')}"
    elif ENV_PREFIX + top.upper() in os.environ:
        origin = f"environment variable {ENV_PREFIX}{top.upper()}"
    elif top in file_data:
        origin = f"config file {path}"
    else:
        origin = "settings"
    if not loc:  # a rule across settings: its message names them
        return f"invalid settings: {message}"
    if error["type"] == "extra_forbidden":
        return f"unknown key {key!r} in {origin}"
    return f"invalid value for {key!r} in {origin}: {message}"
