"""Shared fixtures: every test gets its own cache folder and a clean MURMURNET_* env."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Ray 2.60 reads this when it is imported, which may be while any test module is collected:
# Ray in the tests listens on 127.0.0.1, not on the machine's network address (ray_cluster).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("MURMURNET_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MURMURNET_CACHE_FOLDER", str(tmp_path / "cache"))


@pytest.fixture
def open_discussion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Open questions take the discussion (agents, summary, output agent), as they do with
    `--open-answer discuss`: for the tests of that machinery, which a default open question
    no longer reaches."""
    monkeypatch.setenv("MURMURNET_OPEN_ANSWER", "discuss")
