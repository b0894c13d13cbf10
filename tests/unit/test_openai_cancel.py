"""Cancellation, failing callbacks and timings of the OpenAI-compatible backend, against the
same real fake server on 127.0.0.1 as test_openai_http."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from murmurnet.cancellation import Cancellation
from murmurnet.config import ModelSpec
from murmurnet.errors import BackendUnavailableError, CancelledError
from murmurnet.models.openai_http import OpenAIHTTPBackend, create
from murmurnet.models.registry import LoadOptions
from tests.unit.test_openai_http import ServerState, ask, backend, serve

# Only a guard against hangs: every call here should end far sooner.
HANG = 5.0


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def server() -> Iterator[tuple[str, ServerState]]:
    with serve() as running:
        yield running


class Boom(Exception):
    """What a caller's token callback raises."""


def test_cancel_closes_a_slow_stream_at_once(server: tuple[str, ServerState]) -> None:
    url, state = server
    # Never ends on its own; after the first words, one more word every 30 s, so only a
    # client that really closes its streams lets the server see the hang-up in time.
    state.endless, state.chunk_delay, state.stall = True, 0.05, 30.0
    model = backend(url, timeout=60.0)
    cancel = Cancellation()
    seen: list[tuple[int, str]] = []

    def on_token(index: int, piece: str) -> None:
        seen.append((index, piece))
        if sum(p == " more" for _, p in seen) == 2:
            # Both streams are now in their long pause, blocked reading: only closing the
            # connections can end them in time.
            threading.Timer(0.2, cancel.cancel, args=("user pressed stop",)).start()

    started = time.monotonic()
    try:
        with pytest.raises(CancelledError, match="user pressed stop"):
            model.generate(
                [ask("a", repeat_guard=False), ask("b", repeat_guard=False)],
                on_token=on_token,
                cancel=cancel,
            )
        assert time.monotonic() - started < HANG
        # The server notices that the client hung up (its next write fails).
        assert state.disconnected.wait(HANG)
        deadline = time.monotonic() + HANG
        while state.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state.in_flight == 0, "a stream was left open"
        count = len(seen)
        time.sleep(0.3)
        assert len(seen) == count, "tokens arrived after the call ended"
    finally:
        model.close()


def test_cancel_while_waiting_for_the_answer(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.delay = 30.0  # no headers for a long time: the call must not wait for them
    model = backend(url, timeout=60.0)
    cancel = Cancellation()
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()
    try:
        with pytest.raises(CancelledError):
            model.generate([ask("slow")], cancel=cancel)
        assert time.monotonic() - started < HANG
    finally:
        model.close()


def test_already_cancelled_sends_nothing(server: tuple[str, ServerState]) -> None:
    url, state = server
    model = backend(url)
    cancel = Cancellation()
    cancel.cancel("too late")
    try:
        with pytest.raises(CancelledError, match="too late"):
            model.generate([ask("x")], cancel=cancel)
    finally:
        model.close()
    assert state.bodies == []


def test_raising_on_token_reaches_the_caller_unchanged(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.endless, state.chunk_delay, state.stall = True, 0.05, 30.0
    model = backend(url, timeout=60.0)
    boom = Boom("callback failed")

    def on_token(index: int, piece: str) -> None:
        if index == 1 and piece == " more":
            raise boom

    started = time.monotonic()
    try:
        with pytest.raises(Boom) as caught:
            model.generate([ask(text, repeat_guard=False) for text in "abc"], on_token=on_token)
        assert caught.value is boom
        assert time.monotonic() - started < HANG
        # The other requests of the batch are not left streaming into the void.
        assert state.disconnected.wait(HANG)
        deadline = time.monotonic() + HANG
        while state.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state.in_flight == 0, "a stream was left open"
    finally:
        model.close()


def test_raising_on_token_with_a_server_that_ignores_stream(
    server: tuple[str, ServerState],
) -> None:
    url, state = server
    state.ignore_stream = True
    model = backend(url)
    seen: list[str] = []
    try:
        out = model.generate([ask("whole")], on_token=lambda _i, piece: seen.append(piece))
        assert out[0].text == "answer to whole" and seen == ["answer to whole"]
        assert out[0].first_token_seconds is not None

        def fail(index: int, piece: str) -> None:
            raise Boom(piece)

        with pytest.raises(Boom, match="answer to whole"):
            model.generate([ask("whole")], on_token=fail)
    finally:
        model.close()


def test_error_event_mid_stream_is_one_line(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.error_event = True
    model = backend(url)
    try:
        with pytest.raises(BackendUnavailableError, match="failed mid-answer") as caught:
            model.generate([ask("x")])
    finally:
        model.close()
    assert "model crashed" in caught.value.one_line() and url in caught.value.message


def test_timings_are_filled(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.chunk_delay = 0.05
    model = backend(url)
    try:
        (out,) = model.generate([ask("timed words here")])
    finally:
        model.close()
    assert out.text == "answer to timed words here"
    assert out.first_token_seconds is not None
    assert out.seconds > 0 and out.prefill_seconds > 0 and out.decode_seconds > 0
    assert out.queue_seconds >= 0
    assert out.prefill_seconds + out.decode_seconds == pytest.approx(out.seconds)
    # The first token cannot come before the first event, nor before admission.
    assert out.first_token_seconds >= out.prefill_seconds


def test_queue_seconds_when_the_pool_is_full(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.delay = 0.3
    spec = ModelSpec(type="openai", url=url, timeout=5.0, retries=0)
    model: OpenAIHTTPBackend = create(spec, LoadOptions(cache_folder=Path("."), max_sequences=1))
    try:
        first, second = model.generate([ask("one"), ask("two")])
    finally:
        model.close()
    # One worker: the second request waits for the first, which takes at least 0.3 s.
    assert state.max_in_flight == 1
    assert second.queue_seconds >= 0.25 > first.queue_seconds
    assert second.first_token_seconds is not None
    assert second.first_token_seconds >= second.queue_seconds


def test_a_reply_that_loops_is_cut_and_its_stream_closed(server: tuple[str, ServerState]) -> None:
    url, state = server
    # "answer to a more more more …" until the client hangs up: a phrase loop.
    state.endless, state.chunk_delay = True, 0.01
    model = backend(url)
    seen: list[str] = []
    try:
        (out,) = model.generate([ask("a")], on_token=lambda _i, piece: seen.append(piece))
        assert out.text == "answer to a more" and out.finish_reason == "stop"
        assert "".join(seen) == out.text
        assert state.disconnected.wait(HANG), "the server kept writing to a closed stream"
    finally:
        model.close()
