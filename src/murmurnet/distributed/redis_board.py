"""The blackboard on Redis: one stream per run, shared by every process that opens the run.

Versions are 1, 2, 3… per run however many processes write: the stream ID is the version,
and Redis assigns it (`XADD … 0-*` takes the next sequence number atomically), so no
counter can drift from the entries. Each write carries a random write id and goes through
one Lua script that returns the earlier ID if that write was already made; so a write that
is retried because Redis restarted mid-reply is neither lost nor duplicated.

Each board keeps a local copy of the stream and brings it up to date whenever it is read or
written; every new entry, from this process or any other, reaches the listeners then, in
version order. `redis_watch` follows a run from a process that does not take part.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from murmurnet.blackboard.base import WriteListener
from murmurnet.config.blackboard import BlackboardSettings
from murmurnet.distributed.redis_client import connect, retrying, run_keys, runs_key
from murmurnet.distributed.redis_codec import Codec, stream_id, stream_items, version_of
from murmurnet.errors import BlackboardUnavailableError, InputError
from murmurnet.types import BlackboardEntry, EntryKind

# KEYS[1] the run's stream, KEYS[2] its write ids; ARGV: write id, payload field, payload,
# seconds to keep the run after this write (0: forever).
APPEND = """
local done = redis.call('HGET', KEYS[2], ARGV[1])
if done then return done end
local id = redis.call('XADD', KEYS[1], '0-*', ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], id)
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return id
"""


class RedisBlackboard:
    """One run's board on its Redis stream; listeners see every write of the run, in order."""

    def __init__(
        self, store: RedisBlackboards, run_id: str, listeners: list[WriteListener]
    ) -> None:
        self.run_id = run_id
        self.listeners = list(listeners)
        self._store = store
        self._keys = run_keys(store.settings.namespace, run_id)
        self._known: list[BlackboardEntry] = []
        self._delivered = 0
        # Re-entrant: a listener may write to the board it listens to.
        self._lock = threading.RLock()
        with self._lock:
            self._fetch()
            # Joining a run that is under way: what is there already is history, not news.
            self._delivered = len(self._known)

    @property
    def version(self) -> int:
        with self._lock:
            self._catch_up()
            return len(self._known)

    def write(self, kind: EntryKind, text: str, **meta: Any) -> BlackboardEntry:
        draft = BlackboardEntry(version=0, kind=kind, text=text, **meta)
        field, payload = self._store.codec.encode(draft)
        args: list[bytes | str | int] = [uuid.uuid4().hex, field, payload, self._store.ttl_seconds]
        keys = list(self._keys)
        written = retrying(self._store.settings, lambda: self._store.append(keys=keys, args=args))
        entry = draft.model_copy(update={"version": version_of(written)})
        with self._lock:
            if entry.version == len(self._known) + 1:
                self._known.append(entry)
            elif entry.version > len(self._known):  # others wrote in between: read theirs
                self._fetch()
            if entry.version > len(self._known) or self._known[entry.version - 1] != entry:
                raise BlackboardUnavailableError(
                    f"Redis no longer holds run {self.run_id}'s earlier entries",
                    hint="was it restarted without persistence (appendonly yes)?",
                )
            self._deliver()
        return entry

    def subscribe(self, listener: WriteListener) -> None:
        with self._lock:
            self.listeners.append(listener)

    def entries(self, kind: EntryKind | None = None) -> list[BlackboardEntry]:
        with self._lock:
            self._catch_up()
            return [e for e in self._known if kind is None or e.kind is kind]

    def _catch_up(self) -> None:
        self._fetch()
        self._deliver()

    def _fetch(self) -> None:
        """Append what other writers added since the local copy was last brought up to date."""
        start = stream_id(len(self._known) + 1)
        reply = retrying(
            self._store.settings, lambda: self._store.client.xrange(self._keys.entries, start)
        )
        for sid, fields in stream_items(reply):
            entry = self._store.codec.decode(sid, fields)
            if entry.version != len(self._known) + 1:
                raise BlackboardUnavailableError(
                    f"run {self.run_id} on Redis skips from version {len(self._known)} "
                    f"to {entry.version}",
                    hint="were its keys expired or edited by hand?",
                )
            self._known.append(entry)

    def _deliver(self) -> None:
        while self._delivered < len(self._known):
            entry = self._known[self._delivered]
            self._delivered += 1
            for listener in list(self.listeners):
                listener(entry)


class RedisBlackboards:
    """The `BlackboardFactory` of `store: redis`: one connection pool shared by every run.

    Making it checks that Redis answers, so a wrong URL fails at start-up in one line.
    """

    def __init__(self, settings: BlackboardSettings) -> None:
        self.settings = settings
        self.client = connect(settings)
        self.append = self.client.register_script(APPEND)
        self.codec = Codec(settings)
        self.ttl_seconds = round(settings.ttl_hours * 3600)

    def __call__(self, run_id: str, listeners: list[WriteListener]) -> RedisBlackboard:
        if not run_id or any(c in run_id for c in "{} \t\r\n"):
            raise InputError(f"run id {run_id!r} cannot name a Redis stream")
        retrying(self.settings, lambda: self._index(run_id))
        return RedisBlackboard(self, run_id, listeners)

    def _index(self, run_id: str) -> None:
        """Note the run's start, so a watcher can find the newest run; forget expired ones."""
        now = time.time()
        key = runs_key(self.settings.namespace)
        with self.client.pipeline(transaction=False) as batch:
            batch.zadd(key, {run_id: now}, nx=True)
            if self.ttl_seconds:
                batch.zremrangebyscore(key, "-inf", now - self.ttl_seconds)
                batch.expire(key, self.ttl_seconds)
            batch.execute()

    def close(self) -> None:
        self.client.close()
