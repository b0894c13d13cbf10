"""One small real evaluation on the bundled model: every strategy runs and is scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from murmurnet.cli.main import main
from murmurnet.config import default_cache_folder

pytestmark = pytest.mark.integration


def test_small_real_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    pytest.importorskip("llama_cpp")
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        json.dumps({"question": "What is 6 plus 7?", "answer": "13", "kind": "number"})
        + "\n"
        + json.dumps(
            {
                "question": "水を冷やすと何になりますか？",
                "choices": ["氷", "砂", "鉄", "紙", "石"],
                "answer": "氷",
                "kind": "choice",
                "lang": "ja",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(
        ["eval", str(rows), "--strategies", "single,self-consistency,murmur", "--out", str(out),
         "--cache-folder", str(default_cache_folder()), "--internal-tokens", "64",
         "--summary-tokens", "48", "--output-tokens", "64", "--seed", "1"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert {(r["strategy"], r["kind"]) for r in results} == {
        (s, k) for s in ("single", "self-consistency", "murmur") for k in ("number", "choice")
    }
    assert all(r["reply"] and r["prompt_tokens"] > 0 for r in results)
    # the murmur answers a choice by scoring its options: it generates nothing there
    generated = {(r["strategy"], r["kind"]) for r in results if r["completion_tokens"] > 0}
    assert ("murmur", "choice") not in generated and len(generated) == 5
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "murmur" in report and "self-consistency" in report
    assert (out / "results.json").exists() and list(out.glob("*.png"))
