"""A cancellation handle per run, shared by the pipeline and every backend call it makes.

Cancelling is cooperative: the llama.cpp engine drops the run's sequences at its next step,
the pipeline stops between stages, and an HTTP backend closes its open streams through a
callback registered with `on_cancel`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from murmurnet.errors import CancelledError


class Cancellation:
    """Thread-safe; `cancel` may be called from any thread (a signal handler, a server)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.reason = ""

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled") -> None:
        with self._lock:
            if self._event.is_set():
                return
            self.reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            with contextlib.suppress(Exception):  # one failing closer must not stop the others
                callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` when cancelled (at once if already); returns its remover."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._remove(callback)
        callback()
        return lambda: None

    def _remove(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError(f"the run was cancelled ({self.reason})")

    def wait(self, timeout: float | None = None) -> bool:
        return self._event.wait(timeout)
