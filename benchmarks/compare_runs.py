"""Two evaluation records compared row by row, across folders: `strategy` from one
results.jsonl against `strategy` from another, on the rows both answered.

One evaluation compares the strategies it ran under one configuration. Two configurations
of the murmur (a role map, say) need two runs with their own folders; a greedy `plain`
answer does not depend on the murmur's settings, so a murmur run elsewhere can be paired
with the `plain` answers of another folder. Only each folder's latest fingerprint of the
strategy is read, so the figures describe one version of the code and settings.

    python benchmarks/compare_runs.py results/a:plain results/b:murmur

A side may join several records with "," (`results/a:murmur,results/c:murmur`), so that a
pooled comparison spans the latest run of each kind of row; for a row in two of them the
later one counts. (A comma inside a variant's brackets, `murmur[agents=3,iterations=2]`,
does not split.)
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

from murmurnet.evaluation.aggregate import RowResult
from murmurnet.evaluation.runner import RESULTS_FILE, read_results
from murmurnet.evaluation.stats import bootstrap_ci, paired_difference


def records(spec: str) -> dict[str, RowResult]:
    """FOLDER:STRATEGY[,FOLDER:STRATEGY…] → each one's latest-fingerprint records by row id."""
    joined: dict[str, RowResult] = {}
    for part in re.split(r",(?![^\[]*\])", spec):
        joined.update(one_record_set(part))
    return joined


def one_record_set(spec: str) -> dict[str, RowResult]:
    folder, _, strategy = spec.rpartition(":")
    found = [r for r in read_results(Path(folder) / RESULTS_FILE) if r.strategy == strategy]
    if not found:
        raise SystemExit(f"compare_runs.py: no {strategy!r} records in {folder}")
    latest = found[-1].fingerprint
    return {r.id: r for r in found if r.fingerprint == latest}


def line(name: str, base: list[RowResult], other: list[RowResult]) -> str:
    paired = paired_difference([r.correct for r in base], [r.correct for r in other])
    a, b = bootstrap_ci([r.correct for r in base]), bootstrap_ci([r.correct for r in other])
    return (
        f"| {name} | {len(base)} | {a.estimate:.1%} | {b.estimate:.1%} "
        f"| {paired.difference.in_points()} | {paired.wins} | {paired.losses} "
        f"| {paired.p_value:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="FOLDER:STRATEGY[,…], the baseline")
    parser.add_argument("other", help="FOLDER:STRATEGY[,…], compared against it")
    args = parser.parse_args()
    base, other = records(args.base), records(args.other)
    shared = sorted(set(base) & set(other))
    by_source: dict[str, list[str]] = defaultdict(list)
    for row_id in shared:
        by_source[base[row_id].source].append(row_id)
    print(f"{args.other} against {args.base}\n")
    print("| rows | n | base | other | difference (points, 95 % CI) | better | worse | p |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for source, ids in sorted(by_source.items()):
        print(line(source, [base[i] for i in ids], [other[i] for i in ids]))
    print(line("**pooled**", [base[i] for i in shared], [other[i] for i in shared]))


if __name__ == "__main__":
    main()
