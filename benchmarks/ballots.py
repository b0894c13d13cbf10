"""What each agent of a murmur would have scored alone, from an evaluation's stored records.

The short-answer path votes over independent answers (the plain one, the roles', the
options' likelihood). Whether a vote can beat the plain answer depends on how often each
voter is right and on how often they are right where the plain answer is wrong, so this
reads every agent's answer from `results.jsonl` (recorded with each murmur row), scores it
with the evaluation's own scorer, and prints per file: each agent alone, the vote, the
`plain` strategy, and the oracle (any agent right), which bounds what a better vote could
reach. Only records of one fingerprint are read (the latest by default), so the figures
describe one version of the code.

    python benchmarks/ballots.py benchmarks/results/eval-default ../shared/eval/*-dev300.jsonl
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from murmurnet.evaluation.aggregate import RowResult
from murmurnet.evaluation.dataset import EvalRow, load_rows
from murmurnet.evaluation.runner import RESULTS_FILE, read_results
from murmurnet.evaluation.scoring import score


def latest_fingerprint(records: list[RowResult], strategy: str) -> str:
    """The fingerprint of the strategy's last stored record with contributions."""
    with_ballots = [r for r in records if r.strategy == strategy and r.contributions]
    if not with_ballots:
        raise SystemExit(f"no {strategy} records with contributions: rerun the evaluation")
    return with_ballots[-1].fingerprint


def agent_names(record: RowResult) -> list[str]:
    """Each contribution's role, numbered where two agents share one ("second 1")."""
    roles = [c.role for c in record.contributions]
    seen: dict[str, int] = defaultdict(int)
    names = []
    for role in roles:
        seen[role] += 1
        names.append(f"{role} {seen[role]}" if roles.count(role) > 1 else role)
    return names


def table(
    records: list[RowResult], rows: dict[str, EvalRow], strategy: str, fingerprint: str
) -> dict[str, list[str]]:
    """Markdown lines per source file: agent, answered rows, right alone."""
    murmurs = [r for r in records if r.strategy == strategy and r.fingerprint == fingerprint]
    plains = {r.id: r for r in records if r.strategy == "plain"}  # the last one stored
    by_source: dict[str, list[RowResult]] = defaultdict(list)
    for record in murmurs:
        if record.id in rows:
            by_source[record.source].append(record)
    lines: dict[str, list[str]] = {}
    for source, group in sorted(by_source.items()):
        right: dict[str, int] = defaultdict(int)
        answered: dict[str, int] = defaultdict(int)
        oracle = plain_right = plain_n = 0
        for record in group:
            row = rows[record.id]
            any_right = False
            for name, contribution in zip(agent_names(record), record.contributions, strict=True):
                outcome = score(contribution.text, row)
                answered[name] += bool(outcome.extracted)
                right[name] += outcome.correct
                any_right = any_right or outcome.correct
            oracle += any_right
            if record.id in plains:
                plain_n += 1
                plain_right += plains[record.id].correct
        n = len(group)
        out = [f"{source}: {n} rows", "", "| agent | answered | right | accuracy |"]
        out.append("|---|---:|---:|---:|")
        for role in dict.fromkeys(name for r in group for name in agent_names(r)):
            out.append(f"| {role} | {answered[role]} | {right[role]} | {right[role] / n:.1%} |")
        voted = sum(r.correct for r in group)
        out.append(f"| **the vote ({strategy})** | {n} | {voted} | {voted / n:.1%} |")
        if plain_n:
            out.append(
                f"| `plain` strategy | {plain_n} | {plain_right} | {plain_right / plain_n:.1%} |"
            )
        out.append(f"| oracle (any agent right) | {n} | {oracle} | {oracle / n:.1%} |")
        lines[source] = out
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="an evaluation's --out folder")
    parser.add_argument("files", nargs="+", type=Path, help="the JSONL rows it evaluated")
    parser.add_argument("--strategy", default="murmur")
    parser.add_argument("--fingerprint", default=None, help="default: the latest one")
    args = parser.parse_args()
    records = read_results(args.folder / RESULTS_FILE)
    rows = {row.id: row for path in args.files for row in load_rows(path)}
    fingerprint = args.fingerprint or latest_fingerprint(records, args.strategy)
    print(f"{args.strategy} records with fingerprint {fingerprint}\n")
    for lines in table(records, rows, args.strategy, fingerprint).values():
        print("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
