"""What a request's `model` names: a murmur profile, or one model answering alone.

`murmur` is the configuration as it is; each entry of the configuration's `profiles` changes
some of its settings (`deep: {agents: 4, iterations: 2}`); every named model, and the default
model, answers alone as `single` does, with the conversation. Profiles are checked when the
server starts, so a bad one is an error then, never a 500 on some later request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from murmurnet.config import DEFAULT_MODEL, RunConfig, first_error
from murmurnet.errors import ConfigError

SERVER_ONLY = frozenset({"profiles", "log", "monitoring", "blackboard", "ray_serve"})
"""Settings a profile may not change: they belong to the whole server."""


@dataclass(frozen=True)
class Profile:
    name: str
    settings: dict[str, Any]
    """Changes to the server's configuration for a run of this profile."""
    owned_by: str


def _checked(config: RunConfig, name: str, settings: dict[str, Any]) -> dict[str, Any]:
    fixed = SERVER_ONLY & settings.keys()
    if fixed:
        raise ConfigError(f"profile {name!r} may not set {', '.join(sorted(fixed))}")
    try:
        RunConfig.model_validate({**config.model_dump(exclude={"profiles"}), **settings})
    except ValidationError as exc:
        key, message = first_error(exc)
        raise ConfigError(f"profile {name!r}: {f'{key}: ' if key else ''}{message}") from None
    return settings


def profiles(config: RunConfig) -> dict[str, Profile]:
    """Every name a request may give as `model`, murmur profiles first."""
    found = {"murmur": Profile("murmur", {}, "murmurnet")}
    for name, settings in config.profiles.items():
        found[name] = Profile(name, _checked(config, name, settings), "murmurnet")
    default = config.model_name or DEFAULT_MODEL
    found.setdefault(default, Profile(default, {"strategy": "single"}, "murmurnet-model"))
    for model in config.models:
        alone = {"strategy": "single", "output_model": model}
        found.setdefault(model, Profile(model, alone, "murmurnet-model"))
    return found
