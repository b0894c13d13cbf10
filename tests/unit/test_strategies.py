"""Every strategy prints its answer and its sources, streamed as the murmur's are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from murmurnet.cli.main import main

DOCS = Path(__file__).resolve().parents[1] / "data" / "kb" / "docs"


@pytest.fixture
def knowledge_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    cache = tmp_path / "cache"
    code = main(
        ["index", str(DOCS), "--kb", "t", "--embedder", "hash", "--cache-folder", str(cache),
         "--no-progress"]
    )  # fmt: skip
    capsys.readouterr()
    assert code == 0
    config = tmp_path / "fake.yaml"
    config.write_text(
        json.dumps(
            {"models": {"fake": {"type": "scripted", "responses": ["It is as [1] says."] * 20}}}
        ),
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize(
    "strategy", ["murmur", "plain", "plain+likelihood", "single", "self-consistency"]
)
def test_every_strategy_streams_its_answer_and_sources(
    strategy: str, knowledge_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["ask", "What is the boiling point of water?", "--kb", "t", "--config",
            str(knowledge_base), "--internal-model", "fake", "--strategy", strategy]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("It is as [1] says.\n\nSources:\n[1] "), printed
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert printed.strip() == data["answer"]
    assert data["strategy"] == strategy
