"""The machinery behind one `generate` call of the OpenAI-compatible backend: its requests
run on worker threads, share one stop switch, and are shut from another thread when the
caller cancels or one of them fails."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

import httpx2

from murmurnet.cancellation import Cancellation
from murmurnet.models.base import TokenCallback
from murmurnet.types import Completion


@dataclass
class Clock:
    """When one request was submitted, started, saw its first event and its first text."""

    submitted: float
    admitted: float
    first_event: float | None = None
    first_token: float | None = None


class Batch:
    """One `generate` call: its clock, the callback lock, and a stop switch that ends all
    its requests when the caller cancels or one of them fails."""

    def __init__(self, on_token: TokenCallback | None, cancel: Cancellation | None) -> None:
        self.submitted = time.monotonic()
        self.stop = Cancellation()
        self._on_token = on_token
        self._caller = cancel
        self._lock = threading.Lock()  # callers' on_token never runs on two threads at once
        self._wake = threading.Event()
        self._unlink = cancel.on_cancel(self._caller_cancelled) if cancel else _nothing

    def _caller_cancelled(self) -> None:
        assert self._caller is not None
        self.stop.cancel(self._caller.reason)
        self._wake.set()

    def emit(self, index: int, piece: str) -> None:
        with self._lock:
            # Once the call has ended, late text from a request being shut must not leak out.
            self.stop.raise_if_cancelled()
            if self._on_token is not None:
                self._on_token(index, piece)

    def wait(self, futures: list[Future[Completion]]) -> list[Completion]:
        """Block until every request is done, one fails, or the caller cancels; the
        caller's thread is never stuck behind a request that is still waiting."""
        for future in futures:
            future.add_done_callback(lambda _done: self._wake.set())
        while True:
            self._wake.clear()  # before the checks, so a later wake-up is never missed
            if self._caller is not None and self._caller.cancelled:
                self.stop.cancel(self._caller.reason)
                self._caller.raise_if_cancelled()
            for future in futures:
                if future.cancelled():  # the backend was closed under this call
                    self.stop.cancel("the backend was closed")
                    self.stop.raise_if_cancelled()
                if future.done() and (error := future.exception()) is not None:
                    self.stop.cancel("another request of the batch failed")
                    raise error
            if all(future.done() for future in futures):
                return [future.result() for future in futures]
            self._wake.wait()

    def close(self, futures: list[Future[Completion]]) -> None:
        """End the call: requests not started are dropped and, when the call is left early
        (a failure, Ctrl-C in the caller's thread), the running ones are shut."""
        for future in futures:
            future.cancel()
        if not all(future.done() for future in futures):
            self.stop.cancel("the call ended early")
        self._unlink()


def abort(response: httpx2.Response) -> None:
    """Close a stream from another thread, now.

    Closing a socket does not wake a thread blocked reading it (Linux), so the socket is shut
    down first: the reader sees the end at once and the server sees the connection close.
    A response already closed is left alone, as its connection may be back in the pool.
    """
    if response.is_closed:
        return
    network = response.extensions.get("network_stream")
    sock = network.get_extra_info("socket") if network is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    else:
        with contextlib.suppress(Exception):
            response.close()


def _nothing() -> None:
    pass
