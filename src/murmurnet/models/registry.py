"""Backends register here by type name; the core asks the registry and never imports them.

Built-in backends are listed as import paths so that a missing optional dependency
(torch, say) only matters when that backend is actually chosen.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from murmurnet.config import ModelSpec, RunConfig
from murmurnet.errors import MissingDependencyError, ModelNotFoundError
from murmurnet.models.base import Backend


@dataclass(frozen=True)
class LoadOptions:
    """Run-wide settings a backend may need when it loads a model."""

    cache_folder: Path
    local_files_only: bool = True
    threads: int | None = None
    context_size: int | None = None
    max_sequences: int = 16


BackendFactory = Callable[[ModelSpec, LoadOptions], Backend]

_BUILTIN: dict[str, str] = {
    "llama_cpp": "murmurnet.models.llama_cpp:create",
    "transformers": "murmurnet.models.transformers:create",
    "openai": "murmurnet.models.openai_http:create",
    "scripted": "murmurnet.models.scripted:create",
}
_ALIASES = {
    "llama": "llama_cpp",
    "gguf": "llama_cpp",
    "huggingface": "transformers",
    "hf": "transformers",
}
_EXTRAS = {"llama_cpp": "llama-cpp-python==0.3.36", "transformers": "'murmurnet[hf]'"}
_REGISTERED: dict[str, BackendFactory] = {}


def register_backend(type_name: str, factory: BackendFactory) -> None:
    """Make a backend available under `type:` in model specs (plugins call this)."""
    _REGISTERED[type_name] = factory


def backend_types() -> list[str]:
    return sorted({*_BUILTIN, *_REGISTERED})


def _factory(type_name: str) -> BackendFactory:
    name = _ALIASES.get(type_name, type_name)
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in _BUILTIN:
        raise ModelNotFoundError(
            f"unknown backend type {type_name!r}",
            hint=f"choose one of {', '.join(backend_types())}",
        )
    module_name, attribute = _BUILTIN[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"the {name} backend needs the package {exc.name!r}, which is not installed",
            hint=f"pip install {_EXTRAS.get(name, 'murmurnet')}",
        ) from None
    factory: BackendFactory = getattr(module, attribute)
    _REGISTERED[name] = factory
    return factory


def create_backend(spec: ModelSpec, options: LoadOptions) -> Backend:
    return _factory(spec.type)(spec, options)


class ModelPool:
    """One loaded instance per distinct model, shared by every stage and role that names it."""

    def __init__(self, config: RunConfig, backends: Mapping[str, Backend] | None = None) -> None:
        self._config = config
        self._named = dict(backends or {})
        self._options = LoadOptions(
            cache_folder=config.cache_folder,
            local_files_only=config.local_files,
            threads=config.threads,
            context_size=config.context_size,
        )
        self._loaded: dict[tuple[str, ...], Backend] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Backend:
        if name in self._named:
            return self._named[name]
        spec = self._config.resolve_model(name)
        key = spec.identity()
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = create_backend(spec, self._options)
            return self._loaded[key]

    @property
    def loaded(self) -> list[Backend]:
        return [*self._named.values(), *self._loaded.values()]

    def close(self) -> None:
        with self._lock:
            for backend in self._loaded.values():
                backend.close()
            self._loaded.clear()
