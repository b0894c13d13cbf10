"""`murmurnet watch [RUN_ID]`: follow a run's blackboard from another process or machine.

The run must use `blackboard.store: redis`, and the watcher the same Redis and namespace
(the same `--config`, or `--redis-url`/`--namespace`). It prints what is already written,
then each entry as it is written, and ends with the run's final answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from murmurnet.cli.common import PROG
from murmurnet.config import load_config
from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.errors import ConfigError, MissingDependencyError
from murmurnet.types import BlackboardEntry


def add_parsers(commands: Any) -> None:
    watch = commands.add_parser(
        "watch",
        help="follow a run's blackboard on Redis as it is written",
        description="Print a run's entries, then each new one, until its final answer. A run "
        "that failed or was killed never writes one: pass --idle to stop watching it.",
    )
    watch.add_argument(
        "run_id", nargs="?", help="the run to follow (default: the newest one to start)"
    )
    watch.add_argument("--json", action="store_true", help="print one JSON object per entry")
    watch.add_argument(
        "--idle",
        type=float,
        help="stop after this many seconds without a new entry (default: wait for the final "
        "answer, which a failed run never writes)",
    )
    watch.add_argument(
        "--wait",
        type=float,
        help="seconds to wait for RUN_ID to start (default: it must exist already) or, "
        "without RUN_ID, for a first run (default: until one starts)",
    )
    watch.add_argument("--redis-url", help="Redis of the run (default: blackboard.redis_url)")
    watch.add_argument("--namespace", help="key prefix of the run (default: blackboard.namespace)")
    watch.add_argument("--config", type=Path, help="YAML configuration file")
    watch.add_argument("--debug", action="store_true", help="show tracebacks")
    watch.set_defaults(handler=run_watch)


def settings_of(args: argparse.Namespace) -> BlackboardSettings:
    """The run's Redis: the configuration's blackboard section, then these flags."""
    settings = load_config(None, args.config).blackboard
    overrides = {
        key: value
        for key, value in (("redis_url", args.redis_url), ("namespace", args.namespace))
        if value is not None
    }
    if overrides:
        try:
            settings = BlackboardSettings.model_validate(
                {**settings.model_dump(), **overrides, "store": "redis"}
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            flag = "--" + str(error["loc"][0]).replace("_", "-")
            raise ConfigError(f"invalid {flag}: {error['msg']}") from None
    if settings.store != "redis":
        raise ConfigError(
            "there is nothing to watch: the configured blackboard lives in one process's memory",
            hint="set blackboard.store: redis (the run's --config) or pass --redis-url",
        )
    return settings


def run_watch(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    try:
        from murmurnet.distributed import redis_watch
        from murmurnet.distributed.redis_client import redacted
    except ImportError as exc:
        raise MissingDependencyError(
            f"watching needs the {exc.name} package", hint="pip install 'murmurnet[redis]'"
        ) from None
    run_id = args.run_id
    if run_id is None:
        run_id = redis_watch.newest_run(settings, wait=args.wait)
        if run_id is None:
            raise ConfigError(
                f"no run started within {args.wait:g} s",
                hint="is it on the same Redis and namespace?",
            )
        print(f"{PROG}: watching run {run_id}", file=sys.stderr, flush=True)
    elif not redis_watch.run_exists(settings, run_id, wait=args.wait or 0.0):
        raise ConfigError(
            f"no run {run_id} on the Redis at {redacted(settings.redis_url)} "
            f"(namespace {settings.namespace})",
            hint="check the run id and --namespace, or --wait for a run about to start",
        )
    for entry in redis_watch.follow(settings, run_id, idle=args.idle):
        print(
            json.dumps(entry.model_dump(mode="json"), ensure_ascii=False)
            if args.json
            else describe(entry),
            flush=True,
        )
    return 0


def describe(entry: BlackboardEntry) -> str:
    """One entry as a person reads it: a heading line, then its text indented."""
    where = [f"#{entry.version} {entry.kind.value}"]
    if entry.round:
        where.append(f"round {entry.round}")
    if entry.agent is not None:
        where.append(f"agent {entry.agent}" + (f" ({entry.role})" if entry.role else ""))
    if entry.source:
        where.append(entry.source)
    body = "\n".join("  " + line for line in entry.text.splitlines()) or "  "
    return " · ".join(where) + "\n" + body
