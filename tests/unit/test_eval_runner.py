from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from murmurnet.errors import BackendUnavailableError, InputError
from murmurnet.evaluation.dataset import EvalRow
from murmurnet.evaluation.fingerprint import fingerprinter
from murmurnet.evaluation.runner import RESULTS_FILE, Attempt, read_results, run_eval

STRATEGIES = ["single", "murmur"]


def rows(n: int = 4) -> list[EvalRow]:
    return [
        EvalRow(id=f"q{i}", question=f"What is {i} + 1?", answer=str(i + 1), kind="number")
        for i in range(n)
    ]


class FakeSolver:
    """`single` is right on even rows only; `murmur` always; counts calls; can fail on cue."""

    def __init__(self, fail_at: int | None = None, error: BaseException | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_at = fail_at
        self.error = error or KeyboardInterrupt()

    def __call__(self, row: EvalRow, strategy: str) -> Attempt:
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise self.error
        self.calls.append((row.id, strategy))
        index = int(row.id[1:])
        right = strategy == "murmur" or index % 2 == 0
        answer = row.answer if right else "0"
        tokens = 100 if strategy == "single" else 400
        return Attempt(
            reply=f"Thinking...\nAnswer: {answer}",
            prompt_tokens=tokens,
            completion_tokens=tokens // 4,
            seconds=0.5,
        )


def test_runs_every_pair_and_summarises(tmp_path: Path) -> None:
    solver = FakeSolver()
    summary = run_eval(rows(), STRATEGIES, solver, tmp_path, progress=False)
    assert len(solver.calls) == 8
    assert solver.calls[:2] == [("q0", "single"), ("q0", "murmur")]  # rows in the outer loop
    single, murmur = summary.overall.strategies
    assert (single.strategy, single.correct, single.accuracy.estimate) == ("single", 2, 0.5)
    assert (murmur.correct, murmur.tokens, murmur.seconds) == (4, 500.0, 0.5)
    (comparison,) = summary.overall.comparisons
    assert (comparison.strategy, comparison.baseline) == ("murmur", "single")
    assert (comparison.wins, comparison.losses) == (2, 0)
    assert (summary.ran, summary.skipped, summary.questions) == (8, 0, 4)
    lines = (tmp_path / RESULTS_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 8
    assert json.loads(lines[0])["extracted"] == "1"


def test_second_run_makes_no_calls(tmp_path: Path) -> None:
    first = run_eval(rows(), STRATEGIES, FakeSolver(), tmp_path, progress=False)
    solver = FakeSolver()
    second = run_eval(rows(), STRATEGIES, solver, tmp_path, progress=True)
    assert solver.calls == []
    assert (second.ran, second.skipped) == (0, 8)
    assert second.overall == first.overall


def test_interrupted_run_keeps_finished_pairs(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_eval(rows(), STRATEGIES, FakeSolver(fail_at=3), tmp_path, progress=False)
    assert len(read_results(tmp_path / RESULTS_FILE)) == 3
    solver = FakeSolver()
    summary = run_eval(rows(), STRATEGIES, solver, tmp_path, progress=True)
    assert len(solver.calls) == 5
    assert ("q1", "murmur") in solver.calls and ("q0", "single") not in solver.calls
    assert (summary.ran, summary.skipped) == (5, 3)
    assert summary.overall.strategies[1].n == 4


def test_solve_errors_propagate(tmp_path: Path) -> None:
    error = BackendUnavailableError("server down")
    with pytest.raises(BackendUnavailableError, match="server down"):
        run_eval(rows(), STRATEGIES, FakeSolver(fail_at=0, error=error), tmp_path, progress=False)


def test_half_written_line_is_dropped(tmp_path: Path) -> None:
    run_eval(rows(2), STRATEGIES, FakeSolver(), tmp_path, progress=False)
    path = tmp_path / RESULTS_FILE
    path.write_text(path.read_text(encoding="utf-8") + '{"id": "q2", "strat', encoding="utf-8")
    solver = FakeSolver()
    run_eval(rows(3), STRATEGIES, solver, tmp_path, progress=False)
    assert solver.calls == [("q2", "single"), ("q2", "murmur")]
    assert len(read_results(path)) == 6


def test_reading_leaves_a_line_being_written_alone(tmp_path: Path) -> None:
    run_eval(rows(2), STRATEGIES, FakeSolver(), tmp_path, progress=False)
    path = tmp_path / RESULTS_FILE
    text = path.read_text(encoding="utf-8") + '{"id": "q2", "strat'
    path.write_text(text, encoding="utf-8")
    assert len(read_results(path)) == 4
    assert path.read_text(encoding="utf-8") == text  # a running evaluation may finish it


def test_a_results_file_that_is_not_text_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / RESULTS_FILE
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(InputError, match=r"results\.jsonl:1: not a result record"):
        read_results(path)


def test_a_whole_last_record_without_its_newline_is_kept(tmp_path: Path) -> None:
    run_eval(rows(2), STRATEGIES, FakeSolver(), tmp_path, progress=False)
    path = tmp_path / RESULTS_FILE
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    assert len(read_results(path)) == 4  # a hand-edited file: the last record still counts
    solver = FakeSolver()
    run_eval(rows(2), STRATEGIES, solver, tmp_path, progress=False)
    assert solver.calls == [] and len(path.read_text(encoding="utf-8").splitlines()) == 4


def test_more_rows_or_strategies_later_only_runs_the_new_pairs(tmp_path: Path) -> None:
    run_eval(rows(2), ["single"], FakeSolver(), tmp_path, progress=False)
    solver = FakeSolver()
    summary = run_eval(rows(3), STRATEGIES, solver, tmp_path, progress=False)
    assert solver.calls == [("q0", "murmur"), ("q1", "murmur"), ("q2", "single"), ("q2", "murmur")]
    # A smaller later run reports only what it asked for.
    small = run_eval(rows(1), ["single"], FakeSolver(), tmp_path, progress=False)
    assert small.questions == 1 and [s.strategy for s in small.overall.strategies] == ["single"]
    assert summary.questions == 3


def test_duplicate_ids_and_garbage_records_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="share the id"):
        run_eval(rows(2) + rows(1), STRATEGIES, FakeSolver(), tmp_path, progress=False)
    (tmp_path / RESULTS_FILE).write_text('{"what": 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"results\.jsonl:1"):
        run_eval(rows(1), STRATEGIES, FakeSolver(), tmp_path, progress=False)


def test_measures_seconds_when_solve_does_not(tmp_path: Path) -> None:
    summary = run_eval(
        rows(1), ["single"], lambda row, s: Attempt(reply="Answer: 1"), tmp_path, progress=False
    )
    (result,) = summary.results
    assert result.correct and result.seconds > 0


def test_baseline_is_plain_then_single_then_first(tmp_path: Path) -> None:
    def solve(row: EvalRow, strategy: str) -> Attempt:
        return Attempt(reply=f"Answer: {row.answer}")

    assert run_eval(rows(1), ["murmur", "single", "plain"], solve, tmp_path, False).baseline == (
        "plain"
    )
    assert run_eval(rows(1), ["murmur", "single"], solve, tmp_path, False).baseline == "single"
    assert run_eval(rows(1), ["murmur", "x"], solve, tmp_path, False).baseline == "murmur"


def fingerprints(tag: str) -> Callable[[str], str]:
    return lambda strategy: f"{tag}-{strategy}"


def test_changed_fingerprint_redoes_pairs_and_keeps_the_old_records(tmp_path: Path) -> None:
    first = run_eval(
        rows(2), STRATEGIES, FakeSolver(), tmp_path, False, fingerprint=fingerprints("a")
    )
    assert {r.fingerprint for r in first.results} == {"a-single", "a-murmur"}
    assert first.fingerprints == {"single": "a-single", "murmur": "a-murmur"}

    def changed(strategy: str) -> str:  # only murmur's settings changed
        return "b-murmur" if strategy == "murmur" else "a-single"

    solver = FakeSolver()
    second = run_eval(rows(2), STRATEGIES, solver, tmp_path, False, fingerprint=changed)
    assert solver.calls == [("q0", "murmur"), ("q1", "murmur")]
    assert (second.ran, second.skipped, second.ignored) == (2, 2, 2)
    assert all(r.fingerprint == changed(r.strategy) for r in second.results)
    path = tmp_path / RESULTS_FILE
    assert len(path.read_text(encoding="utf-8").splitlines()) == 6  # append-only
    # Going back to the first settings reuses their records: nothing was lost.
    solver = FakeSolver()
    again = run_eval(rows(2), STRATEGIES, solver, tmp_path, False, fingerprint=fingerprints("a"))
    assert solver.calls == [] and (again.skipped, again.ignored) == (4, 2)
    assert [r.fingerprint for r in again.results] == [r.fingerprint for r in first.results]


def test_records_without_a_fingerprint_are_not_reused(tmp_path: Path) -> None:
    path = tmp_path / RESULTS_FILE
    old = {
        "id": "q0", "strategy": "single", "kind": "number", "correct": True, "f1": 1.0,
        "extracted": "1", "reply": "Answer: 1",
    }  # fmt: skip
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    solver = FakeSolver()
    summary = run_eval(rows(1), ["single"], solver, tmp_path, False, fingerprint=fingerprints("a"))
    assert solver.calls == [("q0", "single")]
    assert (summary.ran, summary.skipped, summary.ignored) == (1, 0, 1)
    assert len(read_results(path)) == 2 and path.read_text().startswith(json.dumps(old))


def test_without_a_fingerprint_function_code_and_question_rule_are_used(tmp_path: Path) -> None:
    summary = run_eval(rows(1), ["single"], FakeSolver(), tmp_path, False)
    (result,) = summary.results
    assert result.fingerprint == fingerprinter(None)("single") != ""


def test_progress_shows_a_variant_label_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    label = "single[samples=6]"
    run_eval(rows(1), [label], lambda row, _s: Attempt(reply=row.answer), tmp_path, progress=True)
    assert label in capsys.readouterr().err  # not read as rich markup
