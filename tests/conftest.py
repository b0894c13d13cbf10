"""Shared fixtures: every test gets its own cache folder and a clean MURMURNET_* env."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("MURMURNET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MURMURNET_CACHE_FOLDER", str(tmp_path / "cache"))
