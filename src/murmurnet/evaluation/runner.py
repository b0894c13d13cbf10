"""The evaluation loop: every row under every strategy, resumable after any interruption.

An evaluation of a murmur on a laptop takes hours, so each (row, strategy) result is appended
to results.jsonl and flushed the moment it exists; a re-run reads that file and skips what is
done. Rows run in the outer loop, so an interrupted run leaves complete pairs for the paired
comparison rather than one strategy finished and the others not started.

A stored record is reused only when its fingerprint (settings, strategy, question rule, code)
equals the current one for its strategy; any other record is left in the file, never deleted,
and its pair is solved again and appended. The file is append-only: nothing measured is lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from murmurnet.errors import InputError
from murmurnet.evaluation.aggregate import Contribution, EvalSummary, RowResult, summarise
from murmurnet.evaluation.dataset import EvalRow
from murmurnet.evaluation.fingerprint import fingerprinter
from murmurnet.evaluation.scoring import score

RESULTS_FILE = "results.jsonl"


class Attempt(BaseModel):
    """What a strategy returned for one row; `seconds` 0 means "measure it for me"."""

    reply: str
    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)
    seconds: float = Field(0.0, ge=0.0)
    contributions: list[Contribution] = Field(default_factory=list)


Solve = Callable[[EvalRow, str], Attempt]


def _repair_tail(path: Path) -> None:
    """End the file on a fresh line before appending: a last line without its newline is
    kept (newline added) when it is a whole record, dropped when it was cut mid-write."""
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    tail = data[data.rfind(b"\n") + 1 :]
    with path.open("r+b") as handle:
        if _record(tail) is not None:
            handle.seek(0, 2)
            handle.write(b"\n")
        else:
            handle.truncate(len(data) - len(tail))


def _record(line: bytes) -> RowResult | None:
    try:
        return RowResult.model_validate_json(line)
    except ValidationError:  # also raised for bytes that are not UTF-8
        return None


def read_results(path: str | Path) -> list[RowResult]:
    """Every record in a results.jsonl, one per (row, strategy, fingerprint): a later record
    for the same pair and fingerprint replaces an earlier one.

    Only reads: the report tools read a file that a running evaluation is appending to, so a
    last line without its newline that is not a whole record is one still being written, and
    is skipped here (the writer repairs the file before appending, `_repair_tail`)."""
    file = Path(path)
    if not file.is_file():
        return []
    try:
        *lines, tail = file.read_bytes().split(b"\n")
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from None
    records: dict[tuple[str, str, str], RowResult] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = _record(line)
        if record is None:
            raise InputError(
                f"{file}:{lineno}: not a result record",
                hint="delete that line (or the file) and run again to redo it",
            )
        records[(record.id, record.strategy, record.fingerprint)] = record
    if (last := _record(tail) if tail.strip() else None) is not None:
        records[(last.id, last.strategy, last.fingerprint)] = last
    return list(records.values())


def _rescored(record: RowResult, row: EvalRow) -> RowResult:
    """Stored replies are scored again, so a scoring fix applies to earlier runs for free."""
    result = score(record.reply, row)
    return record.model_copy(
        update={
            "kind": row.kind,
            "source": row.source,
            "answer": row.answer,
            "correct": result.correct,
            "f1": result.f1,
            "extracted": result.extracted,
        }
    )


@contextmanager
def _progress_bar(total: int, enabled: bool) -> Iterator[Callable[[str, int], None]]:
    """A rich bar on stderr (stdout stays clean for the CLI); yields `step(label, advance)`."""
    if not enabled or total == 0:
        yield lambda _label, _advance: None
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("eval", total=total)

        def step(label: str, advance: int) -> None:
            # Escaped: a variant's "[samples=6]" would otherwise be read as a style and vanish.
            bar.update(task, advance=advance, description=escape(label))

        yield step


def _result(
    row: EvalRow, strategy: str, attempt: Attempt, measured: float, fingerprint: str
) -> RowResult:
    outcome = score(attempt.reply, row)
    return RowResult(
        id=row.id,
        strategy=strategy,
        kind=row.kind,
        source=row.source,
        answer=row.answer,
        correct=outcome.correct,
        f1=outcome.f1,
        extracted=outcome.extracted,
        reply=attempt.reply,
        prompt_tokens=attempt.prompt_tokens,
        completion_tokens=attempt.completion_tokens,
        seconds=attempt.seconds if attempt.seconds > 0 else measured,
        fingerprint=fingerprint,
        contributions=attempt.contributions,
    )


def run_eval(
    rows: Sequence[EvalRow],
    strategies: Sequence[str],
    solve: Solve,
    out_dir: str | Path,
    progress: bool = True,
    *,
    baseline: str | None = None,
    fingerprint: Callable[[str], str] | None = None,
) -> EvalSummary:
    """Solve and score every (row, strategy) pair not already in out_dir/results.jsonl.

    Errors from `solve` (and Ctrl-C) propagate unchanged; every pair finished before them is
    already on disk. The summary covers exactly the given rows and strategies, so records from
    a larger earlier run stay in the file but do not leak into this report. `baseline` defaults
    to "plain", else "single" when among the strategies, else the first strategy.
    `fingerprint` maps a strategy to what produces its replies (`fingerprint.fingerprinter`);
    a stored record with another fingerprint (or none, from older versions) is not reused.
    Without it, the code version and question rule alone are fingerprinted.
    """
    strategies = list(dict.fromkeys(strategies))
    if not strategies:
        raise InputError("no strategies to evaluate", hint="e.g. --strategies single,murmur")
    by_id: dict[str, EvalRow] = {}
    for row in rows:
        if row.id in by_id:
            raise InputError(f"two evaluation rows share the id {row.id!r}")
        by_id[row.id] = row
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output folder {out}: {exc.strerror}") from None
    path = out / RESULTS_FILE
    if path.is_file():
        _repair_tail(path)
    current = {s: (fingerprint or fingerprinter(None))(s) for s in strategies}
    done: dict[tuple[str, str], RowResult] = {}
    ignored = 0
    for record in read_results(path):
        if record.id not in by_id or record.strategy not in current:
            continue
        if record.fingerprint == current[record.strategy]:
            done[(record.id, record.strategy)] = _rescored(record, by_id[record.id])
        else:
            ignored += 1
    todo = [(row, s) for row in rows for s in strategies if (row.id, s) not in done]
    skipped = len(done)
    with _progress_bar(len(todo), progress) as step, path.open("a", encoding="utf-8") as sink:
        for row, strategy in todo:
            step(f"{strategy} {row.id}", 0)
            started = time.perf_counter()
            attempt = solve(row, strategy)
            measured = time.perf_counter() - started
            result = _result(row, strategy, attempt, measured, current[strategy])
            sink.write(json.dumps(result.model_dump(mode="json"), ensure_ascii=False) + "\n")
            sink.flush()
            done[(row.id, strategy)] = result
            step(f"{strategy} {row.id}", 1)
    ordered = [done[(row.id, s)] for row in rows for s in strategies if (row.id, s) in done]
    return summarise(
        ordered,
        strategies,
        baseline,
        ran=len(todo),
        skipped=skipped,
        ignored=ignored,
        fingerprints=current,
    )
