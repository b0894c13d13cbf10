"""Vote rules replayed on an evaluation's stored ballots: an ablation that runs no model.

On the short-answer path the agents never see one another, so what each agent answered does
not depend on how the answers are then counted. Every murmur record keeps its agents' replies
(`contributions`), so a change to the counting (a program's weight, the options' likelihood
as a voter, a failed program's vote) can be scored exactly on rows already run, instead of
running the models again. Each variant here is `short.tally` on the same ballots with one
thing changed, scored by the evaluation's scorer and paired with the stored `plain` answers
(McNemar) and with the rule as shipped. The last column checks the replay itself: the rule
of the code that made the records should give the stored murmur answer on nearly every row
(a few may differ: a reply cut off by its token limit abstains, and the records do not keep
which replies were cut).

    python benchmarks/replay_votes.py benchmarks/results/eval-dev900 /tmp/dev900/*.jsonl
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from murmurnet.answers import AnswerKind
from murmurnet.evaluation.aggregate import RowResult
from murmurnet.evaluation.dataset import EvalRow, load_rows
from murmurnet.evaluation.prompting import plain_text
from murmurnet.evaluation.runner import RESULTS_FILE, read_results
from murmurnet.evaluation.scoring import score
from murmurnet.evaluation.stats import bootstrap_ci, paired_difference
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.short import Ballot, ballot_key, program_weight, span_source, tally
from murmurnet.options import listed_options
from murmurnet.tools.calculator import program_in

FAILED_MARKS = tuple(stage_texts(language).tool_failed.split("{")[0] for language in ("en", "ja"))
"""How the line `stages.with_program_output` adds when a program fails begins."""

Rule = Callable[[list[Ballot]], list[Ballot]]


def vote_kind(record: RowResult, row: EvalRow) -> AnswerKind:
    """The kind of answer the murmur voted on, which is not always the row's: a reading
    question the murmur took for a calculation (its roles hold a programmer) was voted on as
    numbers (`short.answer_kind`), and scoring that vote as spans would misread it."""
    if listed_options(plain_text(row)):
        return "choice"
    return "number" if any(c.role == "programmer" for c in record.contributions) else "span"


def ballots_of(record: RowResult, row: EvalRow, before: str = "") -> list[Ballot]:
    """The record's ballots as `short.read_ballot` makes them now (from the question as the
    murmur was asked it), or as it made them `before` its fixes ("failed": a failed program
    voted its code's last number; "span": a span that is not in the question's text voted;
    "shown", which `replayed` applies: the shortest span of the winning group was shown even
    when the plain answer was in it; "weight": a program that ran weighed 2 on a question
    about a pasted text too). A reply cut off by its token limit cannot be told
    apart here: it votes."""
    question = plain_text(row)
    options = listed_options(question)
    kind = vote_kind(record, row)
    fixes_undone = before.split(",")
    source = span_source(question)
    about_text = source is not None and "weight" not in fixes_undone
    if "span" in fixes_undone:
        source = None
    ballots = []
    for agent, contribution in enumerate(record.contributions, start=1):
        text = contribution.text
        failed = any(mark in text for mark in FAILED_MARKS)
        ran = contribution.role == "programmer" and program_in(text) is not None and not failed
        abstains = failed and "failed" not in fixes_undone
        key = "" if abstains else ballot_key(kind, text, options, question, source)
        weight = program_weight(ran, about_text)
        ballots.append(Ballot(agent, contribution.role, text, key, weight, ran))
    return ballots


def program_weighs_one(ballots: list[Ballot]) -> list[Ballot]:
    return [Ballot(b.agent, b.role, b.reply, b.key, 1.0, b.checked) for b in ballots]


def likelihood_alone(ballots: list[Ballot]) -> list[Ballot]:
    """What `plain+likelihood` answers: the options' likelihood ballot is that strategy's
    answer (same prompt, same ranking); a question without options gets `plain`."""
    return [b for b in ballots if b.role == "likelihood"] or ballots[:1]


def likelihood_weighs(weight: float) -> Rule:
    """The options' likelihood weighs `weight`: at 1.5 of 4.5 it wins with one other ballot
    agreeing, where at 1 it needs two (`../results/eval-choice-rule/` decides)."""

    def rule(ballots: list[Ballot]) -> list[Ballot]:
        return [
            Ballot(b.agent, b.role, b.reply, b.key, weight, b.checked, b.confidence)
            if b.role == "likelihood"
            else b
            for b in ballots
        ]

    return rule


def without(role: str) -> Rule:
    return lambda ballots: [b for b in ballots if b.role != role]


def as_shipped(ballots: list[Ballot]) -> list[Ballot]:
    """The murmur now: on a question that lists options the likelihood answers alone
    (`--choice-answer likelihood`); on any other question, the vote."""
    return [b for b in ballots if b.role == "likelihood"] or ballots


SHIPPED = "the rule as shipped"
VARIANTS: dict[str, tuple[Rule, str]] = {
    SHIPPED: (as_shipped, ""),
    "options voted on by the agents too (--choice-answer vote)": (lambda ballots: ballots, ""),
    "a failed program votes its last number (before the fix)": (lambda ballots: ballots, "failed"),
    "a span not in the text votes (before the fix)": (lambda ballots: ballots, "span"),
    "the shortest agreeing span is shown, not the plain one (before the fix)": (
        lambda ballots: ballots,
        "shown",
    ),
    "a program weighs 2 on a question about a pasted text too (before the fix)": (
        lambda ballots: ballots,
        "weight",
    ),
    "the rule that made the records (all four before their fixes)": (
        lambda ballots: ballots,
        "failed,span,shown,weight",
    ),
    "a program that ran weighs 1, not 2": (program_weighs_one, ""),
    "no options' likelihood voter": (without("likelihood"), ""),
    "no programmer": (without("programmer"), ""),
    "no solver": (without("solver"), ""),
    "the plain ballot alone": (lambda ballots: ballots[:1], ""),
    "the options' likelihood alone (plain+likelihood)": (likelihood_alone, ""),
    "the options' likelihood weighs 1.5": (likelihood_weighs(1.5), ""),
}


def line(name: str, plain: list[bool], other: list[bool], shipped: list[bool], same: str) -> str:
    paired = paired_difference(plain, other)
    against = paired_difference(shipped, other)
    return (
        f"| {name} | {len(other)} | {bootstrap_ci(other).estimate:.1%} "
        f"| {paired.difference.in_points()} "
        f"| {paired.wins} | {paired.losses} | {paired.p_value:.3f} "
        f"| {against.wins} / {against.losses} (p {against.p_value:.3f}) | {same} |"
    )


def replayed(
    rule: Rule,
    before: str,
    group: list[str],
    murmurs: dict[str, RowResult],
    rows: dict[str, EvalRow],
) -> tuple[list[bool], int]:
    """Each row's correctness under `rule`, and on how many rows it gives the stored answer.
    A record without a plain ballot keeps its stored answer under every rule, since no vote
    made it: the full murmur's (a question not routed to the short-answer path), or a choice
    answered by the options' likelihood alone (`--choice-answer likelihood`)."""
    correct, same = [], 0
    for row_id in group:
        record, row = murmurs[row_id], rows[row_id]
        if record.contributions[0].role != "plain":
            correct.append(record.correct)
            same += 1
            continue
        ballots = rule(ballots_of(record, row, before))
        kind = vote_kind(record, row)
        result = tally(ballots, kind)
        committed = result.committed or ballots[0].reply
        if "shown" in before.split(",") and kind == "span" and result.members:
            winner = [b for b in ballots if b.agent - 1 in result.members]
            committed = min(winner, key=lambda b: (len(b.key), b.agent)).reply
        outcome = score(committed, row)
        correct.append(outcome.correct)
        same += outcome.extracted == record.extracted
    return correct, same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="an evaluation's --out folder")
    parser.add_argument("files", nargs="+", type=Path, help="the JSONL rows it evaluated")
    args = parser.parse_args()
    rows = {row.id: row for path in args.files for row in load_rows(path)}
    stored = [r for r in read_results(args.folder / RESULTS_FILE) if r.id in rows]
    latest = {r.strategy: r.fingerprint for r in stored}
    if not {"murmur", "plain"} <= set(latest):
        raise SystemExit(f"replay_votes.py: {args.folder} needs murmur and plain records")
    murmurs = {
        r.id: r
        for r in stored
        if r.strategy == "murmur" and r.fingerprint == latest["murmur"] and r.contributions
    }
    plains = {r.id: r for r in stored if r.strategy == "plain" and r.fingerprint == latest["plain"]}
    ids = sorted(set(murmurs) & set(plains), key=lambda i: (rows[i].kind, i))
    by_kind: dict[str, list[str]] = defaultdict(list)
    for row_id in ids:
        by_kind[rows[row_id].kind].append(row_id)
    print(f"{len(ids)} rows with stored murmur ballots and plain answers ({args.folder})\n")
    for kind, group in [*sorted(by_kind.items()), ("all", ids)]:
        print(f"### {kind} ({len(group)} rows)\n")
        print(
            "| vote rule | n | accuracy | − plain (points, 95 % CI) | better | worse | p "
            "| against the shipped rule: better / worse | same answer as stored |"
        )
        print("|---|---:|---:|---|---:|---:|---:|---|---:|")
        plain = [plains[i].correct for i in group]
        results = {
            name: replayed(rule, before, group, murmurs, rows)
            for name, (rule, before) in VARIANTS.items()
        }
        shipped = results[SHIPPED][0]
        print(line("`plain` (stored)", plain, plain, shipped, ""))
        print(line("murmur (stored)", plain, [murmurs[i].correct for i in group], shipped, ""))
        for name, (correct, same) in results.items():
            print(line(name, plain, correct, shipped, f"{same} of {len(group)}"))
        print()


if __name__ == "__main__":
    main()
