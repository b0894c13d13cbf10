"""Real bundled models, each loaded once per test session and shared by every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from murmurnet import LoadOptions, ModelSpec
from murmurnet.config import default_cache_folder
from murmurnet.models.base import Backend
from murmurnet.models.registry import create_backend


def _load(name: str) -> Iterator[Backend]:
    pytest.importorskip("llama_cpp")
    options = LoadOptions(cache_folder=default_cache_folder())
    spec = ModelSpec(bundled=name, template="completion" if "gemma" in name else "auto")
    backend = create_backend(spec, options)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def qwen() -> Iterator[Backend]:
    yield from _load("qwen2.5-0.5b")


@pytest.fixture(scope="session")
def gemma() -> Iterator[Backend]:
    yield from _load("gemma-3-270m")
