"""Delivering run events to subscribers without ever stalling the engine.

Each subscriber gets its own queue and thread: publishing only enqueues, so a slow
subscriber falls behind (and, past its bound, loses the oldest events, which are counted)
and a failing one is logged, while the engine's worker and the pipeline go on.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from murmurnet.events.types import RunEvent

Subscriber = Callable[[RunEvent], None]
_log = logging.getLogger("murmurnet.events")
_STOP = object()


class Subscription:
    """One subscriber's queue and delivery thread."""

    def __init__(self, callback: Subscriber, bound: int, name: str) -> None:
        self.callback = callback
        self.dropped = 0
        self.failures = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=bound)
        self._thread = threading.Thread(target=self._deliver, name=name, daemon=True)
        self._thread.start()

    def offer(self, event: RunEvent) -> None:
        while True:
            try:
                self._queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self._queue.task_done()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def _deliver(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                self.callback(item)  # type: ignore[arg-type]
            except Exception:
                self.failures += 1
                _log.exception("event subscriber %r failed", self.callback)
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until every event published so far has been delivered."""
        self._queue.join()

    def close(self, timeout: float = 5.0) -> None:
        self.offer(_STOP)  # type: ignore[arg-type]
        self._thread.join(timeout)


class EventBus:
    """Fan-out of run events; `publish` is cheap and never blocks on a subscriber."""

    def __init__(self, bound: int = 10_000) -> None:
        self._bound = bound
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> Subscription:
        with self._lock:
            name = f"murmurnet-events-{len(self._subscriptions) + 1}"
            subscription = Subscription(callback, self._bound, name)
            self._subscriptions = [*self._subscriptions, subscription]
            return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions = [s for s in self._subscriptions if s is not subscription]
        subscription.close()

    @property
    def active(self) -> bool:
        return bool(self._subscriptions)

    def publish(self, event: RunEvent) -> None:
        for subscription in self._subscriptions:
            subscription.offer(event)

    def flush(self) -> None:
        for subscription in self._subscriptions:
            subscription.flush()

    def close(self) -> None:
        with self._lock:
            subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            subscription.flush()
            subscription.close()
