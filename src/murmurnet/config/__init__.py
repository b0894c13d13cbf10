"""Settings: one pydantic model for flags, `MURMURNET_*` env vars and the YAML file."""

from murmurnet.config.files import first_error, load_config, read_config_file
from murmurnet.config.settings import (
    BACKEND_ALIASES,
    DEFAULT_ALIAS,
    DEFAULT_MODEL,
    ENV_PREFIX,
    ModelSpec,
    RoleSpec,
    RunConfig,
    backend_type,
    default_cache_folder,
)

__all__ = [
    "BACKEND_ALIASES",
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL",
    "ENV_PREFIX",
    "ModelSpec",
    "RoleSpec",
    "RunConfig",
    "backend_type",
    "default_cache_folder",
    "first_error",
    "load_config",
    "read_config_file",
]
