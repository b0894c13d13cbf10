"""benchmarks/report_rows.py: a report on the rows every strategy answered, from records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from murmurnet.evaluation.runner import RESULTS_FILE
from tests.unit.benchmark_scripts import load_benchmark


def test_only_rows_every_strategy_answered_are_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    lines = []
    for index in range(4):
        for strategy, fingerprint, right in (("plain", "p", index == 0), ("murmur", "m", True)):
            if strategy == "murmur" and index == 3:
                continue  # the murmur was stopped before the last row
            record = {"id": f"q{index}", "strategy": strategy, "kind": "number", "correct": right}
            record |= {
                "f1": float(right),
                "extracted": "1",
                "reply": "1",
                "fingerprint": fingerprint,
            }
            lines.append(json.dumps(record))
    stale = {"id": "q3", "strategy": "murmur", "kind": "number", "correct": True, "f1": 1.0}
    lines.insert(0, json.dumps(stale | {"extracted": "1", "reply": "1", "fingerprint": "old"}))
    (tmp_path / RESULTS_FILE).write_text("\n".join(lines) + "\n")
    script = load_benchmark("report_rows")
    out = tmp_path / "common"
    argv = ["report_rows.py", str(tmp_path), "--strategies", "plain,murmur", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    script.main()
    assert "3 rows answered by every strategy" in capsys.readouterr().out
    report = (out / "report.md").read_text(encoding="utf-8")
    # q3's murmur record is of an older code version: the comparison is on q0-q2 only
    assert "| plain | 3 | 1 | 33.3 %" in report and "| murmur | 3 | 3 | 100.0 %" in report
    assert (out / "cost.png").is_file()


def test_skip_leaves_out_the_tuning_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    lines = [
        json.dumps(
            {"id": f"q{index}", "strategy": strategy, "kind": "number", "correct": True}
            | {"f1": 1.0, "extracted": "1", "reply": "1", "fingerprint": strategy[0]}
            | {"source": "gsm8k-rows1to40" if index == 0 else "gsm8k-rows41to80"}
        )
        for index in range(3)
        for strategy in ("plain", "murmur")
    ]
    (tmp_path / RESULTS_FILE).write_text("\n".join(lines) + "\n")
    script = load_benchmark("report_rows")
    argv = ["report_rows.py", str(tmp_path), "--strategies", "plain,murmur"]
    argv += ["--out", str(tmp_path / "untuned"), "--skip", "rows1to40"]
    monkeypatch.setattr(sys, "argv", argv)
    script.main()
    assert "2 rows answered by every strategy" in capsys.readouterr().out
