"""`murmurnet bench`: a batched round against the same agents one by one, on your machine."""

from __future__ import annotations

import argparse
from typing import Any

from murmurnet.cli.common import add_run_flags, config_from, console
from murmurnet.errors import MurmurError


def add_parsers(commands: Any) -> None:
    bench = commands.add_parser("bench", help="time a batched murmur against one-by-one agents")
    bench.add_argument("--sizes", default="1,2,4", help="agent counts to time (default: 1,2,4)")
    bench.add_argument("--prompt-tokens", type=int, default=300, help="shared prompt length")
    bench.add_argument("--new-tokens", type=int, default=32, help="tokens each agent writes")
    add_run_flags(bench).set_defaults(handler=run_bench_command)


def run_bench_command(args: argparse.Namespace) -> int:
    from rich.table import Table

    from murmurnet.bench import run_bench
    from murmurnet.models.registry import ModelPool

    try:
        sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        raise MurmurError(f"--sizes must be numbers like 1,2,4, not {args.sizes!r}") from None
    config = config_from(args)
    pool = ModelPool(config)
    try:
        backend = pool.get(config.model_for("internal"))
        rows = run_bench(backend, sizes, args.prompt_tokens, args.new_tokens)
    finally:
        pool.close()
    table = Table(
        title=f"{backend.name}: {args.prompt_tokens}-token shared prompt, "
        f"{args.new_tokens} tokens per agent"
    )
    for column in ("agents", "batched s", "one-by-one s", "speed-up", "tok/s batched"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row.agents),
            f"{row.batched_seconds:.2f}",
            f"{row.one_by_one_seconds:.2f}",
            f"{row.speedup:.2f}x",
            f"{row.generated_tokens / row.batched_seconds:.1f}",
        )
    console().print(table)
    return 0
