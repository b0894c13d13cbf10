"""Backends register by type name through the `murmurnet.backends` entry point group; the
core asks the registry and never imports one.

The project's own backends are entry points of its own distribution, exactly like a
third-party plugin's, and load only when chosen, so a missing optional dependency (torch,
say) matters only to the user who picks that backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from murmurnet.config import ModelSpec, RunConfig, backend_type
from murmurnet.config.pool import PoolSettings
from murmurnet.errors import MissingDependencyError, ModelNotFoundError
from murmurnet.models.base import Backend
from murmurnet.models.resolve import resolve_model


@dataclass(frozen=True)
class LoadOptions:
    """Run-wide settings a backend may need when it loads a model."""

    cache_folder: Path
    local_files_only: bool = True
    threads: int | None = None
    context_size: int | None = None
    max_sequences: int = 16
    pool: PoolSettings | None = None
    """The run's `endpoint_pool` settings, which pool models start from."""


BackendFactory = Callable[[ModelSpec, LoadOptions], Backend]
ENTRY_POINT_GROUP = "murmurnet.backends"
_EXTRAS = {"llama_cpp": "llama-cpp-python==0.3.36", "transformers": "'murmurnet[hf]'"}
_REGISTERED: dict[str, BackendFactory] = {}


def register_backend(type_name: str, factory: BackendFactory) -> None:
    """Make a backend available under `type:` at run time (tests, notebooks)."""
    _REGISTERED[backend_type(type_name)] = factory


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def backend_types() -> list[str]:
    return sorted({*_entry_points(), *_REGISTERED})


def _factory(type_name: str) -> BackendFactory:
    name = backend_type(type_name)
    if name in _REGISTERED:
        return _REGISTERED[name]
    found = _entry_points().get(name)
    if found is None:
        raise ModelNotFoundError(
            f"unknown backend type {type_name!r}",
            hint=f"choose one of {', '.join(backend_types())}",
        )
    try:
        factory: BackendFactory = found.load()
    except ImportError as exc:
        raise MissingDependencyError(
            f"the {name} backend needs the package {exc.name!r}, which is not installed",
            hint=f"pip install {_EXTRAS.get(name, 'murmurnet')}",
        ) from None
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
            pool=config.endpoint_pool,
        )
        self._loaded: dict[tuple[str, ...], Backend] = {}
        self._lock = threading.Lock()
        self.load_seconds: dict[str, float] = {}
        """Seconds each loaded model took to load, by the backend's name."""

    def get(self, name: str) -> Backend:
        if name in self._named:
            return self._named[name]
        spec = resolve_model(self._config, name)
        key = spec.identity()
        with self._lock:
            if key not in self._loaded:
                tick = time.perf_counter()
                backend = create_backend(spec, self._options)
                self.load_seconds[backend.name] = time.perf_counter() - tick
                self._loaded[key] = backend
            return self._loaded[key]

    def supplied(self, name: str) -> bool:
        """Whether `name` is a backend handed to the pool rather than one it loads."""
        return name in self._named

    @property
    def loaded(self) -> list[Backend]:
        return [*self._named.values(), *self._loaded.values()]

    def close(self) -> None:
        with self._lock:
            for backend in self._loaded.values():
                backend.close()
            self._loaded.clear()
