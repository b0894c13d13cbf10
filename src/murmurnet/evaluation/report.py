"""Turning an `EvalSummary` into files for people (report.md, charts) and scripts (results.json).

Charts are drawn on a bare `matplotlib.figure.Figure` rendered by the Agg canvas, without pyplot:
no window, no global backend switch, safe on headless servers and inside other programs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from murmurnet.errors import InputError, MissingDependencyError
from murmurnet.evaluation.aggregate import EvalSummary, GroupSummary
from murmurnet.evaluation.prompting import QUESTION_RULE_VERSION, describe_question_rule, text_kind
from murmurnet.evaluation.stats import LEVEL, RESAMPLES, SEED
from murmurnet.evaluation.variants import base_name

EVAL_HINT = "pip install 'murmurnet[eval]'"
REPORT_FILE = "report.md"
SUMMARY_FILE = "results.json"
ACCURACY_CHART = "accuracy.png"
TOKENS_CHART = "tokens.png"
COST_CHART = "cost.png"


class ReportFiles(BaseModel):
    """Where `write_report` put its files."""

    report: Path
    summary: Path
    charts: list[Path]


def require_plotting() -> None:
    """Fail before hours of model calls, not after, when the charts cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "matplotlib is needed to draw the evaluation charts", hint=EVAL_HINT
        ) from None


def _percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def _points(value: float) -> str:
    return f"{value * 100:+.1f}"


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _strategy_table(group: GroupSummary, show_f1: bool) -> list[str]:
    f1_head, f1_rule = (" F1 |", "---:|") if show_f1 else ("", "")
    lines = [
        f"| strategy | n | correct | accuracy | 95 % CI |{f1_head} tokens / q "
        "| prompt / q | completion / q | seconds / q |",
        f"|---|---:|---:|---:|---|{f1_rule}---:|---:|---:|---:|",
    ]
    for s in group.strategies:
        f1 = f" {_percent(s.f1)} |" if show_f1 else ""
        lines.append(
            f"| {s.strategy} | {s.n} | {s.correct} | {_percent(s.accuracy.estimate)} "
            f"| {_percent(s.accuracy.low)} – {_percent(s.accuracy.high)} |{f1} "
            f"{s.tokens:.0f} | {s.prompt_tokens:.0f} | {s.completion_tokens:.0f} "
            f"| {s.seconds:.2f} |"
        )
    return lines


def _comparison_table(group: GroupSummary) -> list[str]:
    if not group.comparisons:
        return []
    lines = [
        "| strategy | vs | paired n | difference (points) | 95 % CI | better | worse "
        "| p (McNemar) |",
        "|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for c in group.comparisons:
        lines.append(
            f"| {c.strategy} | {c.baseline} | {c.n} | {_points(c.difference.estimate)} "
            f"| {_points(c.difference.low)} – {_points(c.difference.high)} "
            f"| {c.wins} | {c.losses} | {_p(c.p_value)} |"
        )
    return lines


def _group_section(group: GroupSummary, show_f1: bool, level: str) -> list[str]:
    lines = [f"{level} {group.name} ({group.questions} questions)", ""]
    lines += _strategy_table(group, show_f1)
    if group.comparisons:
        lines += ["", *_comparison_table(group)]
    return [*lines, ""]


def _bases(strategies: Sequence[str]) -> list[str]:
    """The registered strategies behind the labels: a variant gets its base's question text."""
    return list(dict.fromkeys(base_name(s) for s in strategies))


def _fingerprint_line(summary: EvalSummary) -> list[str]:
    if not summary.fingerprints:
        return []
    listed = ", ".join(f"`{s}` {f}" for s, f in summary.fingerprints.items())
    return [f"Fingerprints: {listed}.", ""]


def _kinds_follow_files(summary: EvalSummary) -> bool:
    """One kind per file and one file per kind: a "By kind" section would repeat "By file"."""
    pairs = {(r.source, r.kind) for r in summary.results}
    return len(pairs) == len({s for s, _ in pairs}) == len({k for _, k in pairs})


def render_markdown(summary: EvalSummary, charts: Sequence[str] = ()) -> str:
    """The human report; the numbers are exactly those in results.json."""
    show_f1 = any(r.kind == "span" for r in summary.results)
    sources = summary.by_source or []
    lines = [
        "# MurmurNet evaluation",
        "",
        f"{summary.questions} questions; strategies: "
        + ", ".join(f"`{s}`" for s in summary.strategies)
        + f". This run solved {summary.ran} (question, strategy) pairs and reused "
        f"{summary.skipped} from `results.jsonl`; {summary.ignored} stored records were not "
        "reused because their fingerprint (settings, strategy, question rule, code) differs "
        "from this run's (they stay in the file).",
        "",
        "Question text: " + describe_question_rule(_bases(summary.strategies)),
        "",
        *_fingerprint_line(summary),
        "Accuracy is the share of questions answered correctly, with a "
        f"{LEVEL * 100:.0f} % percentile "
        f"bootstrap interval ({RESAMPLES} resamples, seed {SEED}). Tokens and seconds are means "
        "per question, over every model call the strategy made.",
        "",
        "## Accuracy",
        "",
        *_strategy_table(summary.overall, show_f1),
        "",
    ]
    if summary.overall.comparisons:
        lines += [
            f"## Difference against `{summary.baseline}`",
            "",
            "Paired on the questions both strategies answered. *better*: questions only this "
            f"strategy got right; *worse*: questions only `{summary.baseline}` got right. The "
            "p-value is the exact two-sided McNemar test on those; below 0.05 the difference "
            "is unlikely to be chance. The interval is a paired bootstrap of the difference.",
            "",
            *_comparison_table(summary.overall),
            "",
        ]
    if sources:
        lines += ["## By file", ""]
        for group in sources:
            lines += _group_section(group, show_f1, "###")
    if summary.by_kind and not _kinds_follow_files(summary):
        lines += ["## By kind", ""]
        for group in summary.by_kind:
            lines += _group_section(group, show_f1, "###")
    if charts:
        lines += ["## Charts", ""]
        if COST_CHART in charts:
            lines += [
                f"`{COST_CHART}`: accuracy ({LEVEL * 100:.0f} % CI) against the mean seconds "
                "per question each strategy actually spent (wall clock of the whole run), "
                "one point per strategy; a comparison at equal budget reads across it at "
                "equal spent time, not equal allowed samples or tokens.",
                "",
            ]
        lines += [f"![{Path(c).stem}]({c})" for c in charts]
        lines.append("")
    lines += [
        "Scoring rules: see `docs/eval-format.md`. Per-question replies are in `results.jsonl`.",
        "",
    ]
    return "\n".join(lines)


def summary_json(summary: EvalSummary) -> dict[str, Any]:
    """results.json: the summary without per-row replies (those stay in results.jsonl)."""
    data = summary.model_dump(mode="json", exclude={"results"})
    data["method"] = {
        "interval": "percentile bootstrap",
        "level": LEVEL,
        "resamples": RESAMPLES,
        "seed": SEED,
        "test": "exact two-sided McNemar (binomial on discordant pairs)",
        "difference": "strategy minus baseline, accuracy as a fraction",
        "question_text": {s: text_kind(base_name(s)) for s in summary.strategies},
        "question_rule": QUESTION_RULE_VERSION,
    }
    return data


def _wrapped(label: str) -> str:
    """A variant's settings on a second line, so long labels do not run into each other."""
    return label.replace("[", "\n[", 1)


def _legend_columns(width: float, labels: Sequence[str]) -> int:
    """As many legend columns as fit across `width` inches: a marker and gap take ~0.5 in,
    a character of a small font ~0.075 in (a variant label is long)."""
    entry = 0.5 + 0.075 * max((len(label) for label in labels), default=0)
    return max(1, min(len(labels), int(width / entry)))


def _chart_groups(summary: EvalSummary) -> list[GroupSummary]:
    return [summary.overall, *(summary.by_source or summary.by_kind)]


def plot_accuracy(summary: EvalSummary, path: Path) -> None:
    """Bars of accuracy with the bootstrap interval as error bars, per strategy and group."""
    from matplotlib.figure import Figure

    groups = _chart_groups(summary)
    strategies = [s.strategy for s in summary.overall.strategies]
    width = 0.8 / max(1, len(strategies))
    inches = max(5.0, 1.6 * len(groups) + 2.0)
    columns = _legend_columns(inches, strategies)
    figure = Figure(figsize=(inches, 3.6 + 0.22 * (-(-len(strategies) // columns) - 1)), dpi=100)
    axes = figure.add_subplot()
    for i, name in enumerate(strategies):
        xs, ys, below, above = [], [], [], []
        for g, group in enumerate(groups):
            found = next((s for s in group.strategies if s.strategy == name), None)
            if found is None:
                continue
            acc = found.accuracy
            xs.append(g + (i - (len(strategies) - 1) / 2) * width)
            ys.append(acc.estimate * 100)
            below.append(max(0.0, acc.estimate - acc.low) * 100)
            above.append(max(0.0, acc.high - acc.estimate) * 100)
        axes.bar(xs, ys, width, yerr=[below, above], capsize=3, label=name)
    axes.set_xticks(range(len(groups)), [g.name for g in groups])
    axes.set_ylim(0, 100)
    axes.set_ylabel(f"accuracy (%), {LEVEL * 100:.0f} % CI")
    # Above the axes: bars near 100 % must not hide behind it.
    axes.legend(
        fontsize="small",
        ncols=columns,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        frameon=False,
    )
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def plot_tokens(summary: EvalSummary, path: Path) -> None:
    """Mean prompt and completion tokens per question, stacked, per strategy: the cost side."""
    from matplotlib.figure import Figure

    stats = summary.overall.strategies
    names = [s.strategy for s in stats]
    figure = Figure(figsize=(max(4.0, 1.5 * len(names) + 2.0), 3.6), dpi=100)
    axes = figure.add_subplot()
    prompt = [s.prompt_tokens for s in stats]
    completion = [s.completion_tokens for s in stats]
    ticks = [_wrapped(name) for name in names]
    axes.bar(ticks, prompt, label="prompt")
    axes.bar(ticks, completion, bottom=prompt, label="completion")
    axes.set_ylabel("tokens per question")
    axes.legend(fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def _cost_panel(axes: Any, group: GroupSummary, names: Sequence[str]) -> None:
    """One group's points; labels alternate above and below in order of time, so that
    neighbours (k = 3, 6, 12 often lie close) do not print over each other."""
    ranked = sorted(group.strategies, key=lambda s: s.seconds)
    for rank, stats in enumerate(ranked):
        acc = stats.accuracy
        point = (stats.seconds, acc.estimate * 100)
        axes.errorbar(
            [point[0]],
            [point[1]],
            yerr=[
                [max(0.0, acc.estimate - acc.low) * 100],
                [max(0.0, acc.high - acc.estimate) * 100],
            ],
            fmt="o",
            capsize=3,
            color=f"C{names.index(stats.strategy) % 10}",
            label=stats.strategy,
        )
        above = rank % 2 == 0
        axes.annotate(
            _wrapped(stats.strategy),
            point,
            xytext=(5, 4 if above else -4),
            textcoords="offset points",
            va="bottom" if above else "top",
            fontsize="x-small",
        )
    most = ranked[-1].seconds if ranked else 0.0
    # 0 on the left (time is a ratio scale), room on the right for the last label.
    axes.set_xlim(0, most * 1.35 if most > 0 else 1.0)
    axes.set_title(group.name, fontsize="medium")
    axes.set_xlabel("seconds per question (mean, spent)")
    axes.grid(alpha=0.3)


def plot_cost(summary: EvalSummary, path: Path) -> None:
    """Accuracy (with its interval) against mean seconds per question actually spent.

    One labelled point per strategy, overall and then one panel per kind when there are
    several: "equal budget" is read off the time the strategies spent, not the samples or
    tokens they were allowed. Each strategy keeps its colour in every panel, and the legend
    above names them all should two labels still touch.
    """
    from matplotlib.figure import Figure

    groups = [summary.overall, *summary.by_kind]
    names = [s.strategy for s in summary.overall.strategies]
    width, height = max(5.5, 4.5 * len(groups)), 4.4
    figure = Figure(figsize=(width, height), dpi=100)
    panels = figure.subplots(1, len(groups), squeeze=False, sharey=True)[0]
    for axes, group in zip(panels, groups, strict=True):
        _cost_panel(axes, group, names)
    bounds = [(s.accuracy.low, s.accuracy.high) for g in groups for s in g.strategies]
    low = min((b[0] for b in bounds), default=0.0) * 100
    high = max((b[1] for b in bounds), default=1.0) * 100
    panels[0].set_ylim(max(0.0, low - 8), min(100.0, high + 8))
    panels[0].set_ylabel(f"accuracy (%), {LEVEL * 100:.0f} % CI")
    columns = _legend_columns(width, names)
    figure.legend(
        *panels[0].get_legend_handles_labels(),
        fontsize="small",
        ncols=columns,
        loc="upper center",
        frameon=False,
    )
    legend_rows = -(-len(names) // columns)
    figure.tight_layout(rect=(0, 0, 1, 1 - (0.1 + 0.22 * legend_rows) / height))
    figure.savefig(path)


def write_report(summary: EvalSummary, out_dir: str | Path) -> ReportFiles:
    """Write report.md, results.json, accuracy.png, tokens.png and cost.png into `out_dir`."""
    require_plotting()
    out = Path(out_dir)
    charts = [out / ACCURACY_CHART, out / TOKENS_CHART, out / COST_CHART]
    try:
        out.mkdir(parents=True, exist_ok=True)
        if summary.overall.strategies:
            plot_accuracy(summary, charts[0])
            plot_tokens(summary, charts[1])
            plot_cost(summary, charts[2])
        else:
            charts = []
        report = out / REPORT_FILE
        report.write_text(render_markdown(summary, [c.name for c in charts]), encoding="utf-8")
        results = out / SUMMARY_FILE
        results.write_text(
            json.dumps(summary_json(summary), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
    except OSError as exc:
        raise InputError(f"cannot write the report in {out}: {exc.strerror}") from None
    return ReportFiles(report=report, summary=results, charts=charts)
