"""`murmurnet eval`: every strategy on the same rows, scored, with intervals and a report.

All strategies run on one runtime, so they share one loaded copy of each model and
comparing them costs only the generation time; results are appended as they finish, so
an interrupted run resumes (reusing only results with the same fingerprint). The strategies
come from the registry, so one added there can be measured without touching this command, and
each may be a variant (`self-consistency[samples=6]`) so that settings of one strategy are
compared on the same rows and models.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from murmurnet.api import Runtime
from murmurnet.bench import forget_cache
from murmurnet.cli.common import add_run_flags, config_from
from murmurnet.errors import InputError
from murmurnet.evaluation.aggregate import Contribution
from murmurnet.evaluation.dataset import EvalRow, load_rows
from murmurnet.evaluation.fingerprint import fingerprinter
from murmurnet.evaluation.prompting import question_for
from murmurnet.evaluation.report import require_plotting, write_report
from murmurnet.evaluation.runner import Attempt, run_eval
from murmurnet.evaluation.variants import parse_variants
from murmurnet.murmur.strategies import STRATEGIES
from murmurnet.types import EntryKind

DEFAULT_STRATEGIES = "plain,single,murmur"


def add_parsers(commands: Any) -> None:
    """Add the `eval` subcommand to the CLI's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "eval", help="measure strategies on a JSONL question set"
    )
    parser.add_argument("files", nargs="+", type=Path, help="JSONL rows (see docs/eval-format.md)")
    parser.add_argument(
        "--strategies",
        default=DEFAULT_STRATEGIES,
        help=(
            f"comma-separated, from: {', '.join(STRATEGIES)}; a variant changes settings for "
            "one strategy, e.g. 'self-consistency[samples=6]' (quote it in a shell) "
            f"(default: {DEFAULT_STRATEGIES})"
        ),
    )
    parser.add_argument("--limit", type=int, default=None, help="first N rows of each file")
    parser.add_argument("--out", type=Path, default=Path("eval-out"), help="report folder")
    add_run_flags(parser).set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    variants = {v.label: v for v in parse_variants(args.strategies, config, STRATEGIES)}
    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be at least 1")
    require_plotting()
    rows = [row for path in args.files for row in load_rows(path, args.limit)]
    with Runtime(config) as runtime:

        def solve(row: EvalRow, label: str) -> Attempt:
            # Every question starts cold, as a user's one question does. Run after `plain` on
            # the same row, the murmur and self-consistency would find plain's prompt (which
            # is theirs) already decoded, and seem cheaper than they are: on JSQuAD rows,
            # whose prompts are long and answers short, the murmur then took 0.6 s a question
            # against plain's 1.0 s.
            for backend in runtime.pool.loaded:
                forget_cache(backend)
            variant = variants[label]
            answer = runtime.run(
                question_for(row, variant.base), strategy=variant.base, **variant.overrides
            )
            return Attempt(
                reply=answer.text,
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
                seconds=answer.total_seconds,
                contributions=[
                    Contribution(role=entry.role or "", text=entry.text)
                    for entry in answer.entries
                    if entry.kind is EntryKind.CONTRIBUTION
                ],
            )

        summary = run_eval(
            rows,
            list(variants),
            solve,
            args.out,
            fingerprint=fingerprinter(config, list(variants.values())),
        )
    files = write_report(summary, args.out)
    print(files.report.read_text(encoding="utf-8"))
    print(f"report: {files.report}\nsummary: {files.summary}")
    return 0
