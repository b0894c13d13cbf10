"""The plan's replay (README.md): stored replies cut where `loops.loop_start` ends them.

    benchmarks/dev900_slices.sh ../shared/eval SLICES > /dev/null
    python benchmarks/results/loop-guard/replay.py SLICES/*.jsonl [--open REPLIES.jsonl...]

A greedy or seeded reply cut at a point is exactly the stored reply up to it, so no model
runs. Prints, for the dev rows' `plain` replies and murmur ballots, what the cut changes in
the scored answers, and for the open questions' replies what it removes.
"""

import json
import re
import sys
from pathlib import Path

from murmurnet.evaluation.aggregate import Contribution, RowResult
from murmurnet.evaluation.dataset import load_rows
from murmurnet.evaluation.runner import RESULTS_FILE, read_results
from murmurnet.evaluation.scoring import score
from murmurnet.models.loops import loop_start
from murmurnet.murmur.prompts import stage_texts
from murmurnet.murmur.stages import with_program_output

sys.path.insert(0, "benchmarks")
from replay_votes import as_shipped, ballots_of, replayed

RESULTS = Path("benchmarks/results")
RUNS = (RESULTS / "eval-dev900", RESULTS / "program-prompts" / "end-to-end")
OPEN = [
    RESULTS / "open-vs-plain" / "replies.jsonl",
    RESULTS / "open-agreement" / "replies.jsonl",
    RESULTS / "open-agreement" / "replies-3.jsonl",
]
ADDED = tuple(
    "\n" + getattr(stage_texts(language), field).split("{")[0]
    for language in ("en", "ja")
    for field in ("tool_result", "tool_failed")
)
"""How the line `stages.with_program_output` adds after a program begins."""


_MAYBE_PHRASE_LOOP = re.compile(r"(.{4,80}?)\1{3}", re.DOTALL)
"""Texts where a phrase comes four times in a row; only there must the growth be replayed."""


def cut(text: str) -> str:
    """The text as the guard would have ended it, checked as it grew (the phrase rule looks
    at the end of the text so far)."""
    if _MAYBE_PHRASE_LOOP.search(text):
        for end in range(1, len(text) + 1):
            start = loop_start(text[:end])
            if start is not None:
                return text[:start].rstrip()
        return text
    start = loop_start(text)
    return text if start is None else text[:start].rstrip()


def cut_contribution(contribution: Contribution, language: str) -> Contribution:
    """A reply as the guard would have ended it; a program's output line is its run's, so a
    program whose reply changed is run again."""
    text = contribution.text
    added = min((i for i in (text.rfind(mark) for mark in ADDED) if i >= 0), default=-1)
    if contribution.role != "programmer" or added < 0:
        return Contribution(role=contribution.role, text=cut(text))
    generated = text[:added]
    if cut(generated) == generated:
        return contribution
    shown, _ = with_program_output(stage_texts(language), cut(generated))
    return Contribution(role=contribution.role, text=shown)


def changes(before: list[bool], after: list[bool]) -> str:
    worse = sum(b and not a for b, a in zip(before, after, strict=True))
    better = sum(a and not b for b, a in zip(before, after, strict=True))
    return f"{better} right that were wrong, {worse} wrong that were right"


def main() -> None:
    arguments = sys.argv[1:]
    split = arguments.index("--open") if "--open" in arguments else len(arguments)
    slices, extra = arguments[:split], [Path(path) for path in arguments[split + 1 :]]
    rows = {row.id: row for path in slices for row in load_rows(path)}
    for run in RUNS:
        records = [r for r in read_results(run / RESULTS_FILE) if r.id in rows]
        plains = [r for r in records if r.strategy == "plain"]
        was = [score(r.reply, rows[r.id]).correct for r in plains]
        now = [score(cut(r.reply), rows[r.id]).correct for r in plains]
        n_cut = sum(cut(r.reply) != r.reply for r in plains)
        print(f"## {run.relative_to(RESULTS)}\n")
        print(f"plain: {len(plains)} replies, {n_cut} cut; {changes(was, now)}")
        murmurs = {
            r.id: r
            for r in records
            if r.strategy == "murmur" and r.contributions and r.contributions[0].role == "plain"
        }
        guarded: dict[str, RowResult] = {}
        replies = changed_replies = changed_ballots = 0
        for row_id, record in murmurs.items():
            language = rows[row_id].lang
            contributions = [cut_contribution(c, language) for c in record.contributions]
            guarded[row_id] = record.model_copy(update={"contributions": contributions})
            old = ballots_of(record, rows[row_id])
            new = ballots_of(guarded[row_id], rows[row_id])
            replies += len(contributions)
            changed_replies += sum(
                a.text != b.text for a, b in zip(record.contributions, contributions, strict=True)
            )
            changed_ballots += sum(a.key != b.key for a, b in zip(old, new, strict=True))
        ids = sorted(murmurs)
        was, _ = replayed(as_shipped, "", ids, murmurs, rows)
        now, _ = replayed(as_shipped, "", ids, guarded, rows)
        print(
            f"murmur: {len(ids)} voted rows, {replies} agents' replies, {changed_replies} cut, "
            f"{changed_ballots} ballots changed; the vote: {changes(was, now)}\n"
        )
    print("## open questions\n")
    seen: set[tuple[str, str]] = set()
    n = n_cut = removed = total = 0
    endings = []
    for path in OPEN + extra:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            key = (record["question"], record["reply"])
            record.setdefault("strategy", path.stem)
            if key in seen:
                continue
            seen.add(key)
            n += 1
            total += len(record["reply"])
            guarded_reply = cut(record["reply"])
            if guarded_reply != record["reply"]:
                n_cut += 1
                removed += len(record["reply"]) - len(guarded_reply)
                endings.append((record["strategy"], guarded_reply[-60:], record["reply"][-60:]))
    print(
        f"{n} distinct replies, {n_cut} cut, {removed} of {total} characters removed "
        f"({removed / total:.1%})\n"
    )
    for strategy, kept, was_end in endings:
        print(f"- {strategy}: …{kept!r}\n  (was …{was_end!r})")


if __name__ == "__main__":
    main()
