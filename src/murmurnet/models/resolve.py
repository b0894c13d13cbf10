"""From a model name (a flag, a YAML `models:` entry, a role's model) to a loadable spec.

The original CLI's trio `--model-type`, `--model-name`, `--model-path` describes the
default model; it goes through the same rules as a name from the file, so a flag and a
YAML `type:` accept the same spellings (see `config.BACKEND_ALIASES`).
"""

from __future__ import annotations

import os
from pathlib import Path

from murmurnet.config import DEFAULT_ALIAS, DEFAULT_MODEL, ModelSpec, RunConfig, backend_type
from murmurnet.errors import ConfigError, ModelNotFoundError
from murmurnet.models.builtin import BUNDLED


def resolve_model(config: RunConfig, name: str) -> ModelSpec:
    """The spec a backend loads for `name`; unknown names fail naming what is known."""
    if name in config.models:
        return config.models[name]
    kind = backend_type(config.model_type) if config.model_type else None
    if name == DEFAULT_ALIAS:
        if config.model_name in config.models:
            return config.models[config.model_name]
        if config.model_path is not None:
            return _by_kind(kind or "llama_cpp", str(config.model_path), path=config.model_path)
        return resolve_named(name=config.model_name or DEFAULT_MODEL, kind=kind, config=config)
    return resolve_named(name=name, kind=kind, config=config)


def resolve_named(name: str, kind: str | None, config: RunConfig) -> ModelSpec:
    if kind in (None, "llama_cpp"):
        if name in BUNDLED:
            return ModelSpec(bundled=name, template=BUNDLED[name].template)
        if name.endswith(".gguf") or Path(name).expanduser().is_file():
            return ModelSpec(path=Path(name))
    if kind is not None and kind != "llama_cpp":
        return _by_kind(kind, name)
    known = sorted({*config.models, *BUNDLED})
    raise ModelNotFoundError(
        f"unknown model {name!r}",
        hint=f"known models: {', '.join(known)}; or pass a .gguf path or --model-type",
    )


def _by_kind(kind: str, name: str, path: Path | None = None) -> ModelSpec:
    if kind == "transformers":
        return ModelSpec(type=kind, path=path) if path else ModelSpec(type=kind, hf_name=name)
    if kind == "openai":
        url = os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise ConfigError(
                "--model-type openai needs a server URL",
                hint="set OPENAI_BASE_URL or define a model with `url:` in the config file",
            )
        return ModelSpec(type=kind, url=url, api_model=name)
    return ModelSpec(type=kind, path=path, hf_name=None if path else name)
