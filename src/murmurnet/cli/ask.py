"""`murmurnet ask` and `murmurnet chat`: one runtime, one session, the answer streamed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from murmurnet.api import Runtime, Session
from murmurnet.cli.common import PROG, add_run_flags, config_from, console, stream_to_stdout
from murmurnet.distributed.boards import blackboard_factory
from murmurnet.errors import MurmurError
from murmurnet.memory import Conversation, load_session, save_session, session_path
from murmurnet.types import Answer, EntryKind


def add_parsers(commands: Any) -> None:
    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question", help="the question (quote it)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--session", help="persist and resume a conversation by name")
    add_run_flags(ask).set_defaults(handler=run_ask)
    chat = commands.add_parser("chat", help="multi-turn conversation (/reset, /exit, Ctrl-D)")
    chat.add_argument("--session", help="persist and resume a conversation by name")
    add_run_flags(chat).set_defaults(handler=run_chat)


def _open(args: argparse.Namespace) -> tuple[Runtime, Session, Path | None]:
    config = config_from(args)
    path = session_path(config.cache_folder, args.session) if args.session else None
    conversation = load_session(path) if path else Conversation()
    runtime = Runtime(config, blackboard=blackboard_factory(config.blackboard))
    return runtime, runtime.session(conversation), path


def run_ask(args: argparse.Namespace) -> int:
    runtime, session, path = _open(args)
    with runtime:
        answer = session.ask(args.question, on_token=None if args.json else stream_to_stdout)
        if path:
            save_session(path, session.conversation)
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write("\n")
    if runtime.config.debug:
        print_debug_table(answer)
    return 0


def run_chat(args: argparse.Namespace) -> int:
    runtime, session, path = _open(args)
    print(f"{PROG} chat — /reset clears the conversation, /exit or Ctrl-D quits", file=sys.stderr)
    with runtime:
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
                session.conversation.reset()
                if path:
                    save_session(path, session.conversation)
                print("(conversation cleared)", file=sys.stderr)
                continue
            try:
                answer = session.ask(line, on_token=stream_to_stdout)
            except MurmurError as exc:
                print(f"{PROG}: error: {exc.one_line()}", file=sys.stderr)
                continue
            sys.stdout.write("\n")
            if path:
                save_session(path, session.conversation)
            if runtime.config.debug:
                print_debug_table(answer)


def answer_json(answer: Answer) -> dict[str, Any]:
    data = answer.model_dump(mode="json")
    data["answer"] = data.pop("text")
    data["passages"] = [
        {"source": e.source, "text": e.text} for e in answer.entries if e.kind is EntryKind.PASSAGE
    ]
    data["prompt_tokens"] = answer.prompt_tokens
    data["completion_tokens"] = answer.completion_tokens
    return data


def print_debug_table(answer: Answer) -> None:
    from rich.table import Table

    table = Table(title=f"stages ({answer.total_seconds:.2f} s in all, run {answer.run_id})")
    columns = ("stage", "agent", "role", "prompt tok", "cached", "gen tok", "queue s", "ttft s")
    for column in (*columns, "s", "tok/s"):
        table.add_column(column, justify="left" if column in ("stage", "role") else "right")
    for t in answer.timings:
        table.add_row(
            t.stage,
            "" if t.agent is None else str(t.agent),
            t.role or "",
            str(t.prompt_tokens),
            str(t.cached_tokens),
            str(t.completion_tokens),
            f"{t.queue_seconds:.2f}",
            "" if t.first_token_seconds is None else f"{t.first_token_seconds:.2f}",
            f"{t.seconds:.2f}",
            f"{t.tokens_per_second:.1f}",
        )
    for stage, seconds in answer.stage_seconds.items():
        table.add_row(f"[b]{stage}[/b] (wall)", *[""] * 7, f"{seconds:.2f}", "")
    console(stderr=True).print(table)
