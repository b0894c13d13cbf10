from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from murmurnet.errors import MissingDependencyError
from murmurnet.evaluation.aggregate import EvalSummary, RowResult, summarise
from murmurnet.evaluation.report import require_plotting, write_report

# The charts need the optional `eval` extra; without it only the error path is tested.
needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="needs murmurnet[eval]"
)


def results() -> list[RowResult]:
    out = []
    for i in range(10):
        for strategy, right in (("single", i < 5), ("murmur", i < 8)):
            kind = "number" if i % 2 else "span"
            out.append(
                RowResult(
                    id=f"q{i}",
                    strategy=strategy,
                    kind=kind,
                    source=f"{kind}-dev",
                    answer="1",
                    correct=right,
                    f1=1.0 if right else 0.25,
                    extracted="1" if right else "2",
                    reply="Answer: 1" if right else "Answer: 2",
                    prompt_tokens=100 if strategy == "single" else 300,
                    completion_tokens=20 if strategy == "single" else 90,
                    seconds=1.0 if strategy == "single" else 4.0,
                )
            )
    return out


def summary() -> EvalSummary:
    return summarise(results(), ["single", "murmur"], ran=20)


@needs_matplotlib
def test_report_files_and_numbers(tmp_path: Path) -> None:
    files = write_report(summary(), tmp_path)
    assert files.report.is_file() and files.summary.is_file()
    assert [c.name for c in files.charts] == ["accuracy.png", "tokens.png", "cost.png"]
    for chart in files.charts:
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(files.summary.read_text(encoding="utf-8"))
    single, murmur = data["overall"]["strategies"]
    assert (single["strategy"], single["n"], single["correct"]) == ("single", 10, 5)
    assert single["accuracy"]["estimate"] == pytest.approx(0.5)
    assert single["accuracy"]["low"] <= 0.5 <= single["accuracy"]["high"]
    assert murmur["tokens"] == pytest.approx(390.0) and murmur["seconds"] == pytest.approx(4.0)
    (comparison,) = data["overall"]["comparisons"]
    assert comparison["difference"]["estimate"] == pytest.approx(0.3)
    assert (comparison["wins"], comparison["losses"]) == (3, 0)
    assert comparison["p_value"] == pytest.approx(0.25)
    assert {g["name"] for g in data["by_source"]} == {"number-dev", "span-dev"}
    assert {g["name"] for g in data["by_kind"]} == {"number", "span"}
    assert "results" not in data and data["method"]["resamples"] == 2000

    text = files.report.read_text(encoding="utf-8")
    assert "| single | 10 | 5 | 50.0 % |" in text
    assert "## Difference against `single`" in text
    assert "| murmur | single | 10 | +30.0 |" in text
    assert "## By file" in text and "### span-dev (5 questions)" in text
    assert "## By kind" not in text  # kinds and files coincide here
    assert "![accuracy](accuracy.png)" in text
    assert "![cost](cost.png)" in text and "actually spent" in text
    assert " F1 |" in text  # span rows present


@needs_matplotlib
def test_single_group_has_no_breakdown(tmp_path: Path) -> None:
    only_numbers = [r for r in results() if r.kind == "number"]
    data = summarise(only_numbers, ["single", "murmur"])
    assert data.by_kind == [] and data.by_source == []
    text = write_report(data, tmp_path).report.read_text(encoding="utf-8")
    assert "## By" not in text and " F1 |" not in text


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError) as caught:
        require_plotting()
    assert caught.value.hint == "pip install 'murmurnet[eval]'"


@needs_matplotlib
def test_kinds_within_one_file_get_their_own_section(tmp_path: Path) -> None:
    mixed = [r.model_copy(update={"source": "mixed"}) for r in results()]
    data = summarise(mixed, ["single", "murmur"])
    assert data.by_source == [] and len(data.by_kind) == 2
    text = write_report(data, tmp_path).report.read_text(encoding="utf-8")
    assert "## By kind" in text and "## By file" not in text
