"""Following a run's Redis stream from a process that takes no part in it.

This is what `murmurnet watch` prints: the entries already written, then each new one as it
arrives (XREAD blocks on the server, so nothing polls), until the run's final answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import redis

from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.distributed.redis_client import connect, retrying, run_keys, runs_key
from murmurnet.distributed.redis_codec import Codec, StreamItem, stream_id, stream_items
from murmurnet.types import BlackboardEntry, EntryKind


def newest_run(settings: BlackboardSettings, wait: float | None = None) -> str | None:
    """The id of the run that started last, waiting up to `wait` seconds (None: for as long
    as it takes) for a first one."""
    client = connect(settings)
    key = runs_key(settings.namespace)
    deadline = None if wait is None else time.monotonic() + wait
    try:
        while True:
            found: list[Any] = retrying(settings, lambda: client.zrevrange(key, 0, 0))
            if found:
                return bytes(found[0]).decode()
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.2)
    finally:
        client.close()


def run_exists(settings: BlackboardSettings, run_id: str, wait: float = 0.0) -> bool:
    """Whether `run_id` was ever opened on this Redis and namespace, waiting up to `wait`
    seconds for it to start. `follow` itself cannot tell a mistyped id from a quiet run: it
    would wait for a first entry forever."""
    client = connect(settings)
    index, entries = runs_key(settings.namespace), run_keys(settings.namespace, run_id).entries
    deadline = time.monotonic() + wait
    try:
        while True:
            # The index knows a run before its first write; the stream outlives a trimmed index.
            if retrying(settings, lambda: client.zscore(index, run_id)) is not None:
                return True
            if retrying(settings, lambda: client.exists(entries)):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
    finally:
        client.close()


def follow(
    settings: BlackboardSettings,
    run_id: str,
    *,
    after: int = 0,
    idle: float | None = None,
) -> Iterator[BlackboardEntry]:
    """Every entry of `run_id` after version `after`, in order, as it is written.

    Ends after the final answer, or once nothing was written for `idle` seconds (a run that
    failed writes no final answer). Rides out a Redis restart like the board does.
    """
    client = connect(settings)
    codec = Codec(settings)
    key = run_keys(settings.namespace, run_id).entries
    # Block for less than a reply may take, so a quiet run is not mistaken for a dead Redis.
    block_ms = max(1, int(min(1.0, settings.timeout / 2) * 1000))
    last, quiet_since = after, time.monotonic()
    try:
        while True:
            read = partial(_read_after, client, key, last, block_ms)
            for sid, fields in retrying(settings, read):
                entry = codec.decode(sid, fields)
                last, quiet_since = entry.version, time.monotonic()
                yield entry
                if entry.kind is EntryKind.FINAL:
                    return
            if idle is not None and time.monotonic() - quiet_since >= idle:
                return
    finally:
        client.close()


def _read_after(client: redis.Redis, key: str, last: int, block_ms: int) -> list[StreamItem]:
    streams: dict[Any, Any] = {key: stream_id(last)}
    reply: Any = client.xread(streams, count=100, block=block_ms)
    return [item for _stream, items in reply or [] for item in stream_items(items)]
