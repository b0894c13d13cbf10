"""An evaluation's report rebuilt from its stored records, on the rows every strategy answered.

`murmurnet eval` writes its report when a run ends. A run of many hours is often stopped and
resumed across sessions, and one strategy may have covered fewer rows than another (a
self-consistency run stopped early); comparing them is only fair on the rows all of them
answered. This reads `results.jsonl` (each strategy's latest fingerprint, so one version of
the code and settings per strategy), keeps the rows every named strategy answered, and
writes the same report, tables and charts (`cost.png`: accuracy against seconds actually
spent) into another folder, without loading a model.

    python benchmarks/report_rows.py benchmarks/results/eval-heldout/default \
        --strategies "plain,murmur,self-consistency[samples=3],self-consistency[samples=6]" \
        --out benchmarks/results/eval-heldout/common-rows

`--skip rows1to40` leaves out the files whose name holds that text (the rows a run tuned on).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from murmurnet.evaluation.aggregate import summarise
from murmurnet.evaluation.report import write_report
from murmurnet.evaluation.runner import RESULTS_FILE, read_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="an evaluation's --out folder")
    parser.add_argument("--strategies", required=True, help="comma-separated labels, as run")
    parser.add_argument("--out", type=Path, required=True, help="where the report goes")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        help="leave out the files whose name holds this text (the rows tuned on: rows1to40)",
    )
    args = parser.parse_args()
    strategies = [label.strip() for label in args.strategies.split(",") if label.strip()]
    stored = [
        r
        for r in read_results(args.folder / RESULTS_FILE)
        if not any(part in r.source for part in args.skip)
    ]
    latest = {r.strategy: r.fingerprint for r in stored}
    missing = [label for label in strategies if label not in latest]
    if missing:
        raise SystemExit(f"report_rows.py: no records of {', '.join(missing)} in {args.folder}")
    chosen = [r for r in stored if r.strategy in strategies and r.fingerprint == latest[r.strategy]]
    answered = [{r.id for r in chosen if r.strategy == label} for label in strategies]
    common = set.intersection(*answered)
    order = list(dict.fromkeys(r.id for r in chosen if r.id in common))
    by_pair = {(r.id, r.strategy): r for r in chosen}
    results = [by_pair[(row_id, label)] for row_id in order for label in strategies]
    fingerprints = {label: latest[label] for label in strategies}
    summary = summarise(results, strategies, skipped=len(results), fingerprints=fingerprints)
    files = write_report(summary, args.out)
    print(f"{len(order)} rows answered by every strategy; report in {files.report}")


if __name__ == "__main__":
    main()
