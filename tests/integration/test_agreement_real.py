"""Agreement protocols end to end on the bundled Qwen model, through the CLI.

The CLI is the stable surface (the Python API is being refactored), so each protocol runs
as `murmurnet ask --json` in a subprocess. Small token limits keep the three runs cheap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from murmurnet.config import default_cache_folder

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp")

_ENV = {**os.environ, "MURMURNET_CACHE_FOLDER": str(default_cache_folder())}
_AGENTS = 3


def _murmurnet(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "murmurnet", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_ENV,
        check=False,
    )


@pytest.fixture(scope="module", autouse=True)
def _bundled_qwen() -> None:
    """Assemble the bundled model once (seconds when it is already in the cache)."""
    prepared = _murmurnet("models", "--prepare", "qwen2.5-0.5b")
    assert prepared.returncode == 0, prepared.stderr


def _ask(protocol: str) -> dict[str, Any]:
    result = _murmurnet(
        "ask",
        "Tell me about the capital of France in one sentence.",
        "--agents",
        str(_AGENTS),
        "--iterations",
        "1",
        "--consensus",
        protocol,
        "--seed",
        "1",
        "--json",
        "--internal-tokens",
        "60",
        "--output-tokens",
        "60",
        "--summary-tokens",
        "60",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("protocol", ["vote", "leader", "bft"])
def test_protocol_end_to_end(protocol: str) -> None:
    data = _ask(protocol)
    assert data["answer"].strip()
    agreed = [e for e in data["entries"] if e["kind"] == "agreement"]
    assert len(agreed) == 1, data["entries"]
    entry = agreed[0]
    assert entry["role"] == protocol
    log = entry["source"] or ""
    assert log.strip(), "the agreement log is missing"
    committed = entry["text"] != "-"
    if committed:
        # never fewer supporters than a strict majority of the agents
        assert entry["agent"] * 2 > _AGENTS, log
    stages = {t["stage"] for t in data["timings"]}
    # the output agent writes the reply, from the committed answer if there is one
    assert "output" in stages, stages
    if protocol == "vote":
        assert log.startswith("clusters:")
        assert not any(s.startswith("agreement") for s in stages)  # nobody was asked
    else:
        # approvals were asked of the agents, in batched calls per term or view
        assert any(s.startswith("agreement") for s in stages), stages
        first = "term 1:" if protocol == "leader" else "view 1:"
        assert first in log
    if protocol == "bft":
        # 3 agents tolerate no liar, yet one vote must never commit: the quorum is 2
        assert log.startswith(f"n={_AGENTS}, tolerates f=0, quorum 2"), log
