"""The `murmurnet` command. This is an edge: errors are translated here and nowhere else.

A typed `MurmurError` or an OS error on the user's files becomes one line on stderr and
exit code 2; Ctrl-C exits 130 after any session file has been left intact; a closed pipe
(`murmurnet ask … | head -1`) ends quietly. A traceback appears only with `debug` (flag,
environment or YAML), or, for a bug, on request.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from murmurnet.cli import ask, bench, evaluate, models, rag, scale, serve, watch
from murmurnet.cli.common import PROG
from murmurnet.errors import MurmurError

_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `yes | head -1` reports


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Several small language models, one answer.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ask.add_parsers(commands)
    bench.add_parsers(commands)
    evaluate.add_parsers(commands)
    rag.add_parsers(commands)
    models.add_parsers(commands)
    serve.add_parsers(commands)
    scale.add_parsers(commands)
    watch.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed on one line
        return int(exit_.code or 0)
    try:
        code: int = args.handler(args)
        return code
    except MurmurError as exc:
        if getattr(args, "debug", False):
            raise
        return _fail(exc.one_line())
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return _BROKEN_PIPE
    except OSError as exc:  # the user's files: unreadable, unwritable, full disk
        if getattr(args, "debug", False):
            raise
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")


def _fail(line: str) -> int:
    print(f"{PROG}: error: {line}", file=sys.stderr)
    return 2


def _silence_stdout() -> None:
    """Stdout is gone: point it at /dev/null so the interpreter's final flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
