"""Backend for any OpenAI-compatible chat completions server (vLLM, Ollama, llama-server).

`url` is the base that `/chat/completions` is appended to, exactly like OPENAI_BASE_URL for
the official client, so it normally ends in `/v1` (http://127.0.0.1:8000/v1). A URL that
already ends in `/chat/completions` is used as given.

A server batches concurrent requests itself, so a round is sent as concurrent requests over
one pooled connection set rather than one after another.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from murmurnet.config import ModelSpec
from murmurnet.errors import BackendUnavailableError, ConfigError
from murmurnet.models.base import TokenCallback, rough_token_count
from murmurnet.models.registry import LoadOptions
from murmurnet.types import Completion, GenerationRequest

_BACKOFF_BASE = 0.25
_BACKOFF_CAP = 4.0
_PATH = "/chat/completions"
Emit = Callable[[str], None]
T = TypeVar("T")


class _Retryable(Exception):
    """A failure another attempt may cure (network, timeout, 429, 5xx); holds the cause."""


class OpenAIHTTPBackend:
    """Talks to one server; safe to call from several threads at once."""

    can_batch = True

    def __init__(
        self,
        url: str,
        *,
        model: str = "default",
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        context_size: int = 4096,
        max_concurrency: int = 16,
    ) -> None:
        self.name = model
        self.context_size = context_size
        self.url = url.rstrip("/")
        self._endpoint = self.url if self.url.endswith(_PATH) else self.url + _PATH
        self._model = model
        self._timeout = timeout
        self._retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # As many connections as worker threads, so no request waits on the pool.
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            ),
        )
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="murmurnet-http")

    def generate(
        self, requests: Sequence[GenerationRequest], on_token: TokenCallback | None = None
    ) -> list[Completion]:
        # One lock per batch so callers' on_token never runs on two threads at once.
        lock = threading.Lock()
        if len(requests) == 1:
            return [self._complete(requests[0], _emitter(on_token, 0, lock))]
        futures = [
            self._executor.submit(self._complete, request, _emitter(on_token, index, lock))
            for index, request in enumerate(requests)
        ]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def count_tokens(self, text: str) -> int:
        """No tokenizer is reachable over HTTP, so this is an estimate."""
        return rough_token_count(text)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def _complete(self, request: GenerationRequest, emit: Emit | None) -> Completion:
        payload = self._payload(request, stream=emit is not None)
        started = time.monotonic()
        pieces: list[str] = []
        attempt = 0
        while True:
            try:
                text, finish, usage = self._attempt(payload, emit, pieces)
                break
            except _Retryable as exc:
                # Text already streamed to the caller cannot be taken back, so no retry then.
                if attempt >= self._retries or pieces:
                    raise BackendUnavailableError(
                        f"cannot reach OpenAI-compatible server at {self.url}: {exc}",
                        hint=f"gave up after {attempt + 1} attempt(s); is the server running "
                        "and is `url:` its base (usually ending in /v1)?",
                    ) from exc
                time.sleep(min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt))
                attempt += 1
        prompt = "\n".join(message.content for message in request.messages)
        details = usage.get("prompt_tokens_details") or {}
        return Completion(
            text=text,
            prompt_tokens=_int(usage.get("prompt_tokens"), rough_token_count(prompt)),
            completion_tokens=_int(usage.get("completion_tokens"), rough_token_count(text)),
            cached_tokens=_int(details.get("cached_tokens"), 0),
            seconds=time.monotonic() - started,
            finish_reason="length" if finish == "length" else "stop",
        )

    def _payload(self, request: GenerationRequest, *, stream: bool) -> dict[str, Any]:
        # top_k and repeat_penalty are not OpenAI fields; strict servers reject unknown ones.
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": [message.model_dump() for message in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "stream": stream,
        }
        if request.seed is not None:
            payload["seed"] = request.seed
        if request.stop:
            payload["stop"] = request.stop
        if stream:
            payload["stream_options"] = {"include_usage": True}
        return payload

    def _attempt(
        self, payload: dict[str, Any], emit: Emit | None, pieces: list[str]
    ) -> tuple[str, str | None, dict[str, Any]]:
        """One request. httpx bounds each read; the deadline bounds a server that trickles."""
        deadline = time.monotonic() + self._timeout
        try:
            with self._client.stream("POST", self._endpoint, json=payload) as response:
                if response.status_code >= 400:
                    response.read()
                    self._fail(response)
                if emit is None or "event-stream" not in response.headers.get("content-type", ""):
                    body = b"".join(_until(response.iter_bytes(), deadline, self._timeout))
                    text, finish, usage = self._parse(body)
                    if emit is not None and text:  # a server that ignored `stream: true`
                        pieces.append(text)
                        emit(text)
                    return text, finish, usage
                return self._parse_stream(response, deadline, emit, pieces)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"no answer within {self._timeout:g} s") from exc
        except httpx.TransportError as exc:
            text = str(exc) or type(exc).__name__
            raise _Retryable("connection refused" if "refused" in text.lower() else text) from exc

    def _fail(self, response: httpx.Response) -> None:
        status, message = response.status_code, _server_message(response)
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}: {message}")
        hint = "check the model spec and the server's limits"
        if status in (401, 403):
            hint = "check `api_key:` or OPENAI_API_KEY"
        elif status == 404:
            hint = "check that `url:` ends in /v1 and `api_model:` names a served model"
        raise BackendUnavailableError(
            f"OpenAI-compatible server at {self.url} refused the request: HTTP {status}: {message}",
            hint=hint,
        )

    def _parse(self, body: bytes) -> tuple[str, str | None, dict[str, Any]]:
        try:
            data = json.loads(body)
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
            return str(text), choice.get("finish_reason"), dict(data.get("usage") or {})
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise self._garbled(body[:200].decode("utf-8", "replace")) from exc

    def _parse_stream(
        self, response: httpx.Response, deadline: float, emit: Emit, pieces: list[str]
    ) -> tuple[str, str | None, dict[str, Any]]:
        finish: str | None = None
        usage: dict[str, Any] = {}
        for line in _until(response.iter_lines(), deadline, self._timeout):
            if not line.startswith("data:"):
                continue
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                break
            try:
                event = json.loads(data)
                if "error" in event:
                    raise BackendUnavailableError(
                        f"OpenAI-compatible server at {self.url} failed mid-answer: "
                        f"{_error_text(event)}"
                    )
                usage = dict(event.get("usage") or usage)
                for choice in event.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content") or ""
                    finish = choice.get("finish_reason") or finish
                    if piece:
                        pieces.append(piece)
                        emit(piece)
            except (ValueError, TypeError, AttributeError) as exc:
                raise self._garbled(data[:200]) from exc
        return "".join(pieces), finish, usage

    def _garbled(self, sample: str) -> BackendUnavailableError:
        return BackendUnavailableError(
            f"server at {self.url} did not answer with an OpenAI chat completion: {sample!r}",
            hint="check that `url:` points at an OpenAI-compatible API",
        )


def _until(items: Iterable[T], deadline: float, timeout: float) -> Iterable[T]:
    for item in items:
        if time.monotonic() > deadline:
            raise _Retryable(f"no complete answer within {timeout:g} s")
        yield item


def _emitter(on_token: TokenCallback | None, index: int, lock: threading.Lock) -> Emit | None:
    if on_token is None:
        return None

    def emit(piece: str) -> None:
        with lock:
            on_token(index, piece)

    return emit


def _error_text(data: Any) -> str:
    if isinstance(data, dict):
        inner = data.get("error") or data.get("message") or data.get("detail")
        return _error_text(inner) if isinstance(inner, dict) else str(inner or "")
    return ""


def _server_message(response: httpx.Response) -> str:
    try:
        text = _error_text(response.json())
    except ValueError:
        text = ""
    text = text or response.text or response.reason_phrase
    return " ".join(text.split())[:300]


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and value >= 0 else default


def create(spec: ModelSpec, options: LoadOptions) -> OpenAIHTTPBackend:
    """Registry factory; the key falls back to OPENAI_API_KEY as the official client does."""
    if not spec.url:
        raise ConfigError(
            "an openai model needs a server URL",
            hint="set `url:` in the model spec, e.g. http://127.0.0.1:8000/v1",
        )
    if not spec.url.startswith(("http://", "https://")):
        raise ConfigError(f"server URL {spec.url!r} must start with http:// or https://")
    return OpenAIHTTPBackend(
        spec.url,
        model=spec.api_model or "default",
        api_key=spec.api_key or os.environ.get("OPENAI_API_KEY") or None,
        timeout=spec.timeout,
        retries=spec.retries,
        context_size=spec.context_size,
        max_concurrency=max(1, options.max_sequences),
    )
