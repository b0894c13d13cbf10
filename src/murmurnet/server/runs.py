"""The server's memory of recent runs: their events as they happen, and their answers.

A run's events are kept from its first one, so a client that subscribes late (or opens the
page after asking) is sent everything already written before the live ones. Only the most
recent runs are kept, so the memory stays bounded on a long-running server.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from murmurnet.api import RunHandle
from murmurnet.events.types import RunCancelled, RunEvent, RunFailed, RunFinished

KEPT_RUNS = 128
KEPT_EVENTS = 50_000
"""Events kept per run (a long murmur streams a few thousand tokens)."""
_ENDINGS = (RunFinished, RunFailed, RunCancelled)


@dataclass
class _Run:
    events: list[RunEvent] = field(default_factory=list)
    ended: bool = False
    handle: RunHandle | None = None
    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)


class RunLog:
    """A bus subscriber (`__call__`) that keeps each recent run's events."""

    def __init__(self, kept: int = KEPT_RUNS) -> None:
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._kept = kept
        self._lock = threading.Lock()

    def _run(self, run_id: str) -> _Run:
        run = self._runs.get(run_id)
        if run is None:
            run = self._runs[run_id] = _Run()
            while len(self._runs) > self._kept:
                self._runs.popitem(last=False)
        return run

    def track(self, handle: RunHandle) -> None:
        with self._lock:
            self._run(handle.id).handle = handle

    def handle(self, run_id: str) -> RunHandle | None:
        with self._lock:
            run = self._runs.get(run_id)
            return None if run is None else run.handle

    def __call__(self, event: RunEvent) -> None:
        with self._lock:
            run = self._run(event.run_id)
            if len(run.events) < KEPT_EVENTS or isinstance(event, _ENDINGS):
                run.events.append(event)
            run.ended = run.ended or isinstance(event, _ENDINGS)
            waiters, run.waiters = run.waiters, []
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)

    async def follow(self, run_id: str) -> AsyncIterator[RunEvent]:
        """Every event of the run, those already kept first, until it ends."""
        sent = 0
        loop = asyncio.get_running_loop()
        while True:
            ready = asyncio.Event()
            with self._lock:
                run = self._run(run_id)
                new, ended = run.events[sent:], run.ended
                if not new and not ended:
                    run.waiters.append((loop, ready))
            for event in new:
                yield event
            sent += len(new)
            if ended and not new:
                return
            if not new:
                await ready.wait()
