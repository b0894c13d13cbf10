"""From per-row results to the numbers a report shows: per strategy, per kind, per file.

Kept apart from the runner so that a report can be rebuilt from results.jsonl alone, and apart
from the report so that the CLI, tests and notebooks get the numbers without plotting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel, Field

from murmurnet.evaluation.dataset import Kind
from murmurnet.evaluation.stats import Interval, PairedComparison, bootstrap_ci, paired_difference


class Contribution(BaseModel):
    """One agent's answer to a row, as written on the blackboard."""

    role: str
    text: str


class RowResult(BaseModel):
    """One (row, strategy) outcome: a line of results.jsonl."""

    id: str
    strategy: str
    kind: Kind
    source: str = ""
    answer: str = ""
    correct: bool
    f1: float
    extracted: str
    reply: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    fingerprint: str = Field(
        "", description='What produced the reply (see `fingerprint`); "" in older records.'
    )
    contributions: list[Contribution] = Field(
        default_factory=list,
        description="Every agent's answer on the blackboard, so that what each agent alone "
        "would have scored can be read later (benchmarks/ballots.py); [] in older records.",
    )


class StrategyStats(BaseModel):
    """Quality and cost of one strategy; costs are means per question."""

    strategy: str
    n: int
    correct: int
    accuracy: Interval
    f1: float = Field(description="Mean F1; equals accuracy except on span rows.")
    prompt_tokens: float
    completion_tokens: float
    tokens: float
    seconds: float


class Comparison(PairedComparison):
    """`strategy` against `baseline` on the rows both have; difference in accuracy points."""

    strategy: str
    baseline: str


class GroupSummary(BaseModel):
    """The numbers for one slice of the rows (all of them, one kind, or one file)."""

    name: str
    questions: int
    strategies: list[StrategyStats]
    comparisons: list[Comparison]


class EvalSummary(BaseModel):
    """Everything `run_eval` measured; `results` holds the per-row records behind it."""

    strategies: list[str]
    baseline: str | None
    questions: int
    ran: int = Field(0, description="(row, strategy) pairs solved in this run.")
    skipped: int = Field(0, description="Pairs already in results.jsonl, kept from earlier runs.")
    ignored: int = Field(
        0,
        description="Stored records for these pairs not reused: their fingerprint differs.",
    )
    fingerprints: dict[str, str] = Field(
        default_factory=dict, description="Each strategy's fingerprint in this run."
    )
    overall: GroupSummary
    by_kind: list[GroupSummary]
    by_source: list[GroupSummary]
    results: list[RowResult]


def strategy_stats(strategy: str, results: Sequence[RowResult]) -> StrategyStats:
    """Accuracy with its bootstrap interval, and mean tokens and seconds per question."""
    n = len(results)
    return StrategyStats(
        strategy=strategy,
        n=n,
        correct=sum(r.correct for r in results),
        accuracy=bootstrap_ci([r.correct for r in results]),
        f1=sum(r.f1 for r in results) / n,
        prompt_tokens=sum(r.prompt_tokens for r in results) / n,
        completion_tokens=sum(r.completion_tokens for r in results) / n,
        tokens=sum(r.prompt_tokens + r.completion_tokens for r in results) / n,
        seconds=sum(r.seconds for r in results) / n,
    )


def compare(strategy: str, baseline: str, results: Sequence[RowResult]) -> Comparison | None:
    """Paired comparison on the rows both strategies finished; None when they share none."""
    base = {r.id: r.correct for r in results if r.strategy == baseline}
    other = {r.id: r.correct for r in results if r.strategy == strategy}
    shared = [row_id for row_id in base if row_id in other]
    if not shared:
        return None
    paired = paired_difference([base[i] for i in shared], [other[i] for i in shared])
    return Comparison(strategy=strategy, baseline=baseline, **paired.model_dump())


def group_summary(
    name: str, strategies: Sequence[str], baseline: str | None, results: Sequence[RowResult]
) -> GroupSummary:
    """Stats for each strategy with results, and each one's comparison against the baseline."""
    stats = []
    for strategy in strategies:
        mine = [r for r in results if r.strategy == strategy]
        if mine:
            stats.append(strategy_stats(strategy, mine))
    comparisons = []
    if baseline is not None:
        for strategy in strategies:
            if strategy != baseline and (found := compare(strategy, baseline, results)):
                comparisons.append(found)
    return GroupSummary(
        name=name,
        questions=len({r.id for r in results}),
        strategies=stats,
        comparisons=comparisons,
    )


def _groups(
    key: Callable[[RowResult], str],
    strategies: Sequence[str],
    baseline: str | None,
    results: Sequence[RowResult],
) -> list[GroupSummary]:
    names = list(dict.fromkeys(key(r) for r in results))
    if len(names) < 2:
        return []
    return [
        group_summary(name, strategies, baseline, [r for r in results if key(r) == name])
        for name in names
    ]


BASELINE_PREFERENCE = ("plain", "single")
"""The model asked plainly is the first thing any strategy must beat; `single` (one answer to
the harness's task text) comes next."""


def choose_baseline(strategies: Sequence[str]) -> str | None:
    """`plain` when it was run, else `single`, else the first strategy."""
    for name in BASELINE_PREFERENCE:
        if name in strategies:
            return name
    return strategies[0] if strategies else None


def summarise(
    results: Sequence[RowResult],
    strategies: Sequence[str],
    baseline: str | None = None,
    *,
    ran: int = 0,
    skipped: int = 0,
    ignored: int = 0,
    fingerprints: Mapping[str, str] | None = None,
) -> EvalSummary:
    """The whole summary; per-kind and per-file groups appear only when there are several."""
    base = baseline if baseline is not None else choose_baseline(strategies)
    return EvalSummary(
        strategies=list(strategies),
        baseline=base,
        questions=len({r.id for r in results}),
        ran=ran,
        skipped=skipped,
        ignored=ignored,
        fingerprints=dict(fingerprints or {}),
        overall=group_summary("all", strategies, base, results),
        by_kind=_groups(lambda r: r.kind, strategies, base, results),
        by_source=_groups(lambda r: r.source, strategies, base, results),
        results=list(results),
    )
