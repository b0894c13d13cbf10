"""Role sets (Japanese and English) and the question-type → roles assignment.

Built-in roles are package YAML; a user adds or overrides roles with `role_files` (YAML
mapping of name → role, optionally split into `en:` / `ja:`), inline `roles` and `role_map`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from murmurnet.config import RoleSpec, RunConfig
from murmurnet.errors import ConfigError
from murmurnet.question import Language


@dataclass(frozen=True)
class Role:
    name: str
    spec: RoleSpec


def agent_temperature(roles: list[Role], index: int, default: float) -> float:
    """Agent `index`'s sampling temperature: its role's own, else `default`. A greedy role
    (the programmer) is greedy for its first agent only: with more agents than roles the
    list repeats, and a second greedy agent with the same prompt would only copy the first
    one's answer into a second vote."""
    role = roles[index]
    own = role.spec.temperature
    repeated = any(other.name == role.name for other in roles[:index])
    return default if own is None or (own == 0 and repeated) else own


def _package_yaml(name: str) -> Any:
    return yaml.safe_load(files("murmurnet.roles").joinpath(name).read_text(encoding="utf-8"))


@cache
def builtin_roles(language: Language) -> dict[str, RoleSpec]:
    return {k: RoleSpec(**v) for k, v in _package_yaml(f"{language}.yaml").items()}


@cache
def builtin_role_map() -> dict[str, list[str]]:
    return {k: list(v) for k, v in _package_yaml("role_map.yaml").items()}


def _roles_from_file(path: Path, language: Language) -> dict[str, RoleSpec]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"role file {path} does not exist") from None
    except yaml.YAMLError:
        raise ConfigError(f"role file {path} is not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"role file {path} must map role names to roles")
    if set(raw) <= {"en", "ja"}:
        raw = raw.get(language) or {}
    roles = {}
    for name, value in raw.items():
        try:
            roles[str(name)] = RoleSpec.model_validate(value)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(p) for p in (name, *error["loc"]))
            raise ConfigError(f"invalid role {key!r} in role file {path}: {error['msg']}") from None
    return roles


def available_roles(config: RunConfig, language: Language) -> dict[str, RoleSpec]:
    roles = dict(builtin_roles(language))
    for path in config.role_files:
        roles.update(_roles_from_file(path, language))
    roles.update(config.roles)
    return roles


def assign_roles(config: RunConfig, kind: str, language: Language) -> list[Role]:
    """One role per agent, in the order the question type's mapping gives."""
    roles = available_roles(config, language)
    mapping = {**builtin_role_map(), **config.role_map}
    order = mapping.get(kind) or mapping["informational"]
    unknown = [name for name in order if name not in roles]
    if unknown:
        raise ConfigError(
            f"role_map for {kind!r} names unknown role(s): {', '.join(unknown)}",
            hint=f"known roles: {', '.join(sorted(roles))}",
        )
    return [Role(order[i % len(order)], roles[order[i % len(order)]]) for i in range(config.agents)]
