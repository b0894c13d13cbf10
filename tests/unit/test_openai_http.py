"""The OpenAI-compatible backend against a real tiny server on 127.0.0.1."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from murmurnet.config import ModelSpec
from murmurnet.errors import BackendUnavailableError, ConfigError
from murmurnet.models.openai_http import OpenAIHTTPBackend, create
from murmurnet.models.registry import LoadOptions
from murmurnet.types import GenerationRequest, Message


@dataclass
class ServerState:
    """What the fake server does and what it saw."""

    fail_503: int = 0
    status: int | None = None
    delay: float = 0.0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    chunk_delay: float = 0.0
    endless: bool = False
    stall: float = 0.0
    ignore_stream: bool = False
    error_event: bool = False
    disconnected: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def reply_for(body: dict[str, Any]) -> tuple[list[str], str]:
    """The reply is 'answer to <last message>', cut to max_tokens words."""
    words = f"answer to {body['messages'][-1]['content']}".split()
    limit = int(body.get("max_tokens", 100))
    return words[:limit], "length" if len(words) > limit else "stop"


def logprob(token: str, index: int) -> dict[str, Any]:
    """The fake server is less sure of each later word."""
    return {"token": token, "logprob": -0.5 * (index + 1), "bytes": None, "top_logprobs": []}


class Handler(BaseHTTPRequestHandler):
    state: ServerState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        state = self.server.state  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with state.lock:
            state.bodies.append(body)
            state.headers.append({k.lower(): v for k, v in self.headers.items()})
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            failing = state.fail_503 > 0
            state.fail_503 -= int(failing)
        try:
            state.release.wait(state.delay)  # the fixture's teardown cuts a long delay short
            if self.path != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
            elif failing:
                self._json(503, {"error": {"message": "overloaded"}})
            elif state.status is not None:
                self._json(state.status, {"error": {"message": "stop must be a list"}})
            elif body.get("stream") and not state.ignore_stream:
                self._stream(body, state)
            else:
                self._answer(body)
        except (BrokenPipeError, ConnectionResetError):
            state.disconnected.set()
        finally:
            with state.lock:
                state.in_flight -= 1

    def _answer(self, body: dict[str, Any]) -> None:
        words, finish = reply_for(body)
        message = {"role": "assistant", "content": " ".join(words)}
        choice = {"index": 0, "message": message, "finish_reason": finish}
        if body.get("logprobs"):
            choice["logprobs"] = {"content": [logprob(w, i) for i, w in enumerate(words)]}
        self._json(
            200,
            {
                "choices": [choice],
                "usage": {"prompt_tokens": 7, "completion_tokens": len(words)},
            },
        )

    def _stream(self, body: dict[str, Any], state: ServerState) -> None:
        """Word by word; `endless` keeps going (slowly) until the client hangs up."""
        words, finish = reply_for(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
        events: list[dict[str, Any]] = [
            {"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
            for p in pieces
        ]
        if body.get("logprobs"):
            for i, (event, piece) in enumerate(zip(events, pieces, strict=True)):
                event["choices"][0]["logprobs"] = {"content": [logprob(piece, i)]}
        if state.error_event:
            events.append({"error": {"message": "model crashed"}})
        events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if body.get("stream_options", {}).get("include_usage"):
            usage = {"prompt_tokens": 7, "completion_tokens": len(words)}
            events.append({"choices": [], "usage": usage})
        for event in events:
            self._event(event, state.chunk_delay)
        while state.endless and not state.release.is_set():
            more = {"choices": [{"index": 0, "delta": {"content": " more"}, "finish_reason": None}]}
            self._event(more, state.stall or state.chunk_delay)
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, event: dict[str, Any], delay: float) -> None:
        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.flush()
        # Wait, but notice at once when the client hangs up (as vLLM aborts the request).
        readable, _, _ = select.select([self.connection], [], [], delay)
        if readable and not self.connection.recv(1, socket.MSG_PEEK):
            raise ConnectionResetError("the client hung up")

    def _json(self, status: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@contextmanager
def serve() -> Iterator[tuple[str, ServerState]]:
    """A fake OpenAI-compatible server on a free loopback port, and what it saw."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = ServerState()
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[tuple[str, ServerState]]:
    with serve() as running:
        yield running


def backend(url: str, **spec: Any) -> OpenAIHTTPBackend:
    values: dict[str, Any] = {"timeout": 5.0, "retries": 0, **spec}
    return create(ModelSpec(type="openai", url=url, **values), LoadOptions(cache_folder=Path(".")))


def ask(text: str, **fields: Any) -> GenerationRequest:
    return GenerationRequest(messages=[Message(role="user", content=text)], **fields)


def test_batch_returns_in_order_with_counts(server: tuple[str, ServerState]) -> None:
    url, state = server
    model = backend(url, api_model="tiny")
    try:
        out = model.generate([ask("one"), ask("two two", seed=3, stop=["\n"]), ask("three")])
    finally:
        model.close()
    assert [c.text for c in out] == ["answer to one", "answer to two two", "answer to three"]
    assert [c.completion_tokens for c in out] == [3, 4, 3]
    assert all(c.prompt_tokens == 7 and c.finish_reason == "stop" for c in out)
    assert all(c.seconds > 0 for c in out)
    by_text = {b["messages"][-1]["content"]: b for b in state.bodies}
    # Every request streams (for cancellation and first-token times), tokens wanted or not.
    assert by_text["one"]["model"] == "tiny" and by_text["one"]["stream"] is True
    assert "stop" not in by_text["one"] and "seed" not in by_text["one"]
    assert by_text["two two"]["stop"] == ["\n"] and by_text["two two"]["seed"] == 3
    assert by_text["one"]["max_tokens"] == 200 and by_text["one"]["top_p"] == 0.95


def test_a_server_gets_at_most_four_stops_and_the_rest_cut_here(
    server: tuple[str, ServerState],
) -> None:
    """OpenAI and MurmurNet's own server refuse more than four stop strings."""
    url, state = server
    model = backend(url)
    try:
        (out,) = model.generate([ask("one", stop=["#1", "#2", "#3", "#4", " to "])])
    finally:
        model.close()
    assert state.bodies[0]["stop"] == ["#1", "#2", "#3", "#4"]
    assert (out.text, out.finish_reason) == ("answer", "stop")


def test_batch_runs_concurrently(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.delay = 0.5
    model = backend(url)
    try:
        out = model.generate([ask("a"), ask("b"), ask("c")])
    finally:
        model.close()
    assert [c.text for c in out] == ["answer to a", "answer to b", "answer to c"]
    assert state.max_in_flight >= 2


def test_length_finish_reason(server: tuple[str, ServerState]) -> None:
    url, _ = server
    model = backend(url)
    try:
        (out,) = model.generate([ask("a long question", max_tokens=2)])
    finally:
        model.close()
    assert out.text == "answer to" and out.finish_reason == "length"


def test_streaming_calls_on_token(server: tuple[str, ServerState]) -> None:
    url, state = server
    model = backend(url)
    seen: list[tuple[int, str]] = []
    try:
        out = model.generate(
            [ask("x"), ask("y z")], on_token=lambda i, piece: seen.append((i, piece))
        )
    finally:
        model.close()
    assert [c.text for c in out] == ["answer to x", "answer to y z"]
    for index, completion in enumerate(out):
        pieces = [piece for i, piece in seen if i == index]
        assert len(pieces) > 1 and "".join(pieces) == completion.text
    assert out[0].prompt_tokens == 7 and out[0].completion_tokens == 3
    assert all(b["stream"] is True for b in state.bodies)


def test_retries_after_503(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.fail_503 = 2
    model = backend(url, retries=2)
    try:
        (out,) = model.generate([ask("again")])
    finally:
        model.close()
    assert out.text == "answer to again"
    assert len(state.bodies) == 3


def test_503_beyond_retries_names_status(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.fail_503 = 5
    model = backend(url, retries=1)
    with pytest.raises(BackendUnavailableError, match="HTTP 503: overloaded"):
        model.generate([ask("again")])
    model.close()
    assert len(state.bodies) == 2


def test_400_is_not_retried(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.status = 400
    model = backend(url, retries=3)
    with pytest.raises(BackendUnavailableError) as info:
        model.generate([ask("bad")])
    model.close()
    assert "HTTP 400" in info.value.message and "stop must be a list" in info.value.message
    assert len(state.bodies) == 1


def test_wrong_path_hints_at_v1(server: tuple[str, ServerState]) -> None:
    url, _ = server
    model = backend(url.removesuffix("/v1") + "/")
    with pytest.raises(BackendUnavailableError, match="HTTP 404") as info:
        model.generate([ask("q")])
    model.close()
    assert info.value.hint is not None and "/v1" in info.value.hint


def test_unreachable_port_fails_fast() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    model = backend(url, timeout=1.0, retries=1)
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError) as info:
        model.generate([ask("anyone?")])
    model.close()
    assert time.monotonic() - started < 5
    assert (
        info.value.message == f"cannot reach OpenAI-compatible server at {url}: connection refused"
    )
    assert info.value.hint


def test_slow_server_times_out(server: tuple[str, ServerState]) -> None:
    url, state = server
    state.delay = 3.0
    model = backend(url, timeout=0.3, retries=0)
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError, match=r"within 0\.3 s"):
        model.generate([ask("slow")])
    model.close()
    assert time.monotonic() - started < 2.5


def test_api_key_from_env_and_trailing_slash(
    server: tuple[str, ServerState], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    model = backend(url + "/")
    try:
        model.generate([ask("key")])
    finally:
        model.close()
    assert state.headers[0]["authorization"] == "Bearer sk-test"
    assert model.count_tokens("two words") == 2


def test_no_key_sends_no_authorization(server: tuple[str, ServerState]) -> None:
    url, state = server
    model = backend(url)
    try:
        model.generate([ask("anonymous")])
    finally:
        model.close()
    assert "authorization" not in state.headers[0]


def test_missing_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        create(ModelSpec(type="openai"), LoadOptions(cache_folder=Path(".")))


@pytest.mark.parametrize("streamed", [True, False])
def test_token_logprobs_where_the_server_offers_them(
    server: tuple[str, ServerState], streamed: bool
) -> None:
    url, state = server
    state.ignore_stream = not streamed
    model = backend(url)
    try:
        asked, plain = model.generate([ask("two words", logprobs=True), ask("none")])
    finally:
        model.close()
    assert asked.token_logprobs == [-0.5, -1.0, -1.5, -2.0]
    assert asked.mean_logprob == pytest.approx(-1.25)
    assert plain.token_logprobs == [] and plain.mean_logprob is None
    sent = {b["messages"][-1]["content"]: b for b in state.bodies}
    assert sent["two words"]["logprobs"] is True and "logprobs" not in sent["none"]
