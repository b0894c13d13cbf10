"""What every subcommand shares: settings flags generated from `RunConfig`, the console."""

from __future__ import annotations

import argparse
import sys
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from murmurnet.config import RunConfig, load_config

if TYPE_CHECKING:
    from rich.console import Console

PROG = "murmurnet"


def _flag_type(annotation: Any) -> tuple[Any, list[str] | None]:
    """The argparse type (and choices) of a settings field's annotation."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Literal:
        return str, [str(choice) for choice in typing.get_args(annotation)]
    return annotation, None


def add_run_flags(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    for name, field in RunConfig.model_fields.items():
        extra = field.json_schema_extra
        if not isinstance(extra, dict) or not extra.get("cli"):
            continue
        flag = "--" + name.replace("_", "-")
        help_text = str(extra["help"])
        kind, choices = _flag_type(field.annotation)
        if kind is bool:
            parser.add_argument(
                flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            default = field.get_default(call_default_factory=True)
            parser.add_argument(
                flag,
                dest=name,
                type=kind,
                choices=choices,
                default=None,
                metavar=name.upper() if choices is None else None,
                help=f"{help_text} (default: {default})",
            )
    parser.add_argument("--config", type=Path, help="YAML configuration file")
    return parser


def config_from(args: argparse.Namespace) -> RunConfig:
    """The settings of this command; `debug` from any source turns tracebacks on."""
    flags = {name: getattr(args, name, None) for name in RunConfig.model_fields}
    config = load_config(flags, getattr(args, "config", None))
    args.debug = bool(args.debug) or config.debug if hasattr(args, "debug") else config.debug
    return config


def console(stderr: bool = False) -> Console:
    """Rich output that keeps tables whole when piped (no terminal width to fit)."""
    from rich.console import Console

    out = Console(stderr=stderr)
    if not out.is_terminal:
        out.width = 160
    return out


def stream_to_stdout(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()
