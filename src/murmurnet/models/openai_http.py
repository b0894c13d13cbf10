"""Backend for any OpenAI-compatible chat completions server (vLLM, Ollama, llama-server).

`url` is the base that `/chat/completions` is appended to, exactly like OPENAI_BASE_URL for
the official client, so it normally ends in `/v1` (http://127.0.0.1:8000/v1). A URL that
already ends in `/chat/completions` is used as given.

The official `openai` client does the HTTP work (SSE parsing, retries with exponential
backoff that honours Retry-After, timeouts), so this module holds only what the client does
not know: a round is sent as concurrent requests over one pooled connection set (a server
batches concurrent requests itself), a cancelled run closes its open streams at once, each
completion carries its timings, and every failure becomes one line that names the server.

Every request streams, whether or not the caller wants tokens: a stream is what lets a
cancelled run stop the server's work mid-answer and what gives a first-token time.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, cast

import httpx2
import openai
from openai.types.chat import ChatCompletionChunk

from murmurnet.cancellation import Cancellation
from murmurnet.config import ModelSpec
from murmurnet.errors import BackendUnavailableError, ConfigError, MurmurError
from murmurnet.models.base import TokenCallback, rough_token_count
from murmurnet.models.loops import kept_at, loop_start, settled_until
from murmurnet.models.openai_batch import Batch, Clock, abort
from murmurnet.models.registry import LoadOptions
from murmurnet.types import Completion, GenerationRequest

_PATH = "/chat/completions"
# The client refuses to start without a key; with none configured the header is omitted.
_NO_KEY = "unused"
_MAX_STOPS = 4
"""OpenAI's limit, which strict servers (OpenAI, MurmurNet's own) enforce: the server gets
the first four stop strings and the reply is cut at the others here."""


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
        self._model = model
        self._timeout = timeout
        self._retries = retries
        self._headers: dict[str, Any] = {} if api_key else {"Authorization": openai.omit}
        # As many connections as worker threads, so no request waits on the pool.
        self._http = httpx2.Client(
            limits=httpx2.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            )
        )
        self._client = openai.OpenAI(
            base_url=self.url.removesuffix(_PATH),
            api_key=api_key or _NO_KEY,
            timeout=timeout,
            max_retries=retries,
            http_client=self._http,
        )
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="murmurnet-http")

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_token: TokenCallback | None = None,
        cancel: Cancellation | None = None,
    ) -> list[Completion]:
        """Send every request at once; the first failure (an HTTP error, an exception from
        `on_token`, a cancellation) ends the call and closes the other requests' streams."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        batch = Batch(on_token, cancel)
        futures = [
            self._executor.submit(self._complete, request, index, batch)
            for index, request in enumerate(requests)
        ]
        try:
            return batch.wait(futures)
        finally:
            batch.close(futures)

    def count_tokens(self, text: str) -> int:
        """No tokenizer is reachable over HTTP, so this is an estimate."""
        return rough_token_count(text)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._client.close()
        self._http.close()

    def _complete(self, request: GenerationRequest, index: int, batch: Batch) -> Completion:
        clock = Clock(submitted=batch.submitted, admitted=time.monotonic())
        batch.stop.raise_if_cancelled()
        logprobs: list[float] = []
        text, finish, usage = self._stream(request, index, batch, clock, logprobs)
        if (cut := _cut(text, request.stop[_MAX_STOPS:])) != text:
            text, finish = cut, "stop"
        end = time.monotonic()
        prompt = "\n".join(message.content for message in request.messages)
        details = usage.get("prompt_tokens_details") or {}
        first_event = clock.first_event if clock.first_event is not None else end
        return Completion(
            text=text,
            prompt_tokens=_int(usage.get("prompt_tokens"), rough_token_count(prompt)),
            completion_tokens=_int(usage.get("completion_tokens"), rough_token_count(text)),
            cached_tokens=_int(details.get("cached_tokens"), 0),
            seconds=end - clock.admitted,
            queue_seconds=clock.admitted - clock.submitted,
            first_token_seconds=(
                None if clock.first_token is None else clock.first_token - clock.submitted
            ),
            # A server does not report its prefill; time to the first streamed event (which
            # carries the first token) is the closest estimate, network and retries included.
            prefill_seconds=first_event - clock.admitted,
            decode_seconds=end - first_event,
            finish_reason="length" if finish == "length" else "stop",
            token_logprobs=logprobs,
        )

    def _stream(
        self,
        request: GenerationRequest,
        index: int,
        batch: Batch,
        clock: Clock,
        logprobs: list[float],
    ) -> tuple[str, str | None, dict[str, Any]]:
        """One streamed request. The client bounds each read (and retries before the
        answer starts); the deadline bounds a server that trickles. Token log-probabilities
        go to `logprobs` when asked for and the server offers them. A reply that starts to
        loop (`loops`) is cut there and its stream closed, which ends the server's work."""
        try:
            stream = self._client.chat.completions.create(
                model=self._model,
                # top_k and repeat_penalty are not OpenAI fields; strict servers reject them.
                messages=cast(Any, [message.model_dump() for message in request.messages]),
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                top_p=request.top_p,
                seed=openai.omit if request.seed is None else request.seed,
                stop=request.stop[:_MAX_STOPS] or openai.omit,
                logprobs=True if request.logprobs else openai.omit,
                stream=True,
                stream_options={"include_usage": True},
                extra_headers=self._headers,
            )
        except openai.APIError as exc:
            self._fail(exc, batch)
        deadline = time.monotonic() + self._timeout
        reply = _Reply(request.repeat_guard, lambda piece: batch.emit(index, piece))
        finish: str | None = None
        usage: dict[str, Any] = {}
        with stream:
            response = stream.response
            unlink = batch.stop.on_cancel(lambda: abort(response))
            try:
                if "event-stream" not in response.headers.get("content-type", ""):
                    text, finish, usage = self._whole(response, batch, clock, logprobs)
                    reply.add_whole(text)  # one body, though a stream was asked for
                    return reply.end(), "stop" if reply.looped else finish, usage
                chunks = iter(stream)
                while not reply.looped and (chunk := self._next(chunks, batch)) is not None:
                    clock.first_event = clock.first_event or time.monotonic()
                    if time.monotonic() > deadline:
                        raise self._unreachable(f"no complete answer within {self._timeout:g} s")
                    if chunk.usage is not None:
                        usage = chunk.usage.model_dump()
                    for choice in chunk.choices or []:
                        piece = (choice.delta.content if choice.delta else None) or ""
                        finish = choice.finish_reason or finish
                        if choice.logprobs is not None and choice.logprobs.content:
                            logprobs.extend(t.logprob for t in choice.logprobs.content)
                        if piece and not reply.looped:
                            clock.first_token = clock.first_token or time.monotonic()
                            reply.add(piece)
            finally:
                unlink()
        # A shut socket can look like the end of a body that ends when the connection does.
        batch.stop.raise_if_cancelled()
        return reply.end(), "stop" if reply.looped else finish, usage

    def _next(
        self, chunks: Iterator[ChatCompletionChunk], batch: Batch
    ) -> ChatCompletionChunk | None:
        """The next chunk, or None at the end; HTTP failures become typed errors here so
        that an exception from `on_token` is never mistaken for one."""
        try:
            return next(chunks)
        except StopIteration:
            return None
        except openai.APIError as exc:
            self._fail(exc, batch)
        except ValueError as exc:  # an event that is not JSON, or not a chunk
            batch.stop.raise_if_cancelled()
            raise self._garbled(str(exc)) from exc

    def _whole(
        self,
        response: httpx2.Response,
        batch: Batch,
        clock: Clock,
        logprobs: list[float],
    ) -> tuple[str, str | None, dict[str, Any]]:
        """A server that answered with one JSON body although a stream was asked for."""
        try:
            body = response.read()
        except httpx2.HTTPError as exc:
            batch.stop.raise_if_cancelled()
            raise self._unreachable(str(exc) or type(exc).__name__) from exc
        clock.first_event = time.monotonic()
        try:
            data = json.loads(body)
            choice = data["choices"][0]
            text = str(choice["message"].get("content") or "")
            finish, usage = choice.get("finish_reason"), dict(data.get("usage") or {})
            tokens = (choice.get("logprobs") or {}).get("content") or []
            logprobs.extend(float(token["logprob"]) for token in tokens)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise self._garbled(body[:200].decode("utf-8", "replace")) from exc
        if text:
            clock.first_token = clock.first_event
        return text, finish, usage

    def _fail(self, exc: openai.APIError, batch: Batch) -> NoReturn:
        """Translate the client's error into one line that names the server."""
        batch.stop.raise_if_cancelled()
        if isinstance(exc, openai.APITimeoutError):
            raise self._unreachable(f"no answer within {self._timeout:g} s") from exc
        if isinstance(exc, openai.APIConnectionError):
            raise self._unreachable(_cause(exc)) from exc
        if not isinstance(exc, openai.APIStatusError):  # an `error` event inside the stream
            reason = _one_line(exc.message)
            raise BackendUnavailableError(
                f"OpenAI-compatible server at {self.url} failed mid-answer: {reason}"
            ) from exc
        status, message = exc.status_code, _server_message(exc.response)
        if status == 429 or status >= 500:  # the client has retried these already
            raise self._unreachable(f"HTTP {status}: {message}") from exc
        hint = "check the model spec and the server's limits"
        if status in (401, 403):
            hint = "check `api_key:` or OPENAI_API_KEY"
        elif status == 404:
            hint = "check that `url:` ends in /v1 and `api_model:` names a served model"
        raise BackendUnavailableError(
            f"OpenAI-compatible server at {self.url} refused the request: HTTP {status}: {message}",
            hint=hint,
        ) from exc

    def _unreachable(self, reason: str) -> MurmurError:
        return BackendUnavailableError(
            f"cannot reach OpenAI-compatible server at {self.url}: {reason}",
            hint=f"gave up after {self._retries + 1} attempt(s); is the server running "
            "and is `url:` its base (usually ending in /v1)?",
        )

    def _garbled(self, sample: str) -> MurmurError:
        return BackendUnavailableError(
            f"server at {self.url} did not answer with an OpenAI chat completion: "
            f"{_one_line(sample)[:200]!r}",
            hint="check that `url:` points at an OpenAI-compatible API",
        )


def _cause(exc: BaseException) -> str:
    """The root of a connection error, e.g. 'connection refused' rather than 'Connection error.'."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(e, ConnectionRefusedError) or "refused" in str(e).lower() for e in seen):
        return "connection refused"
    root = seen[-1]
    return _one_line(str(root)) or type(root).__name__


def _error_text(data: Any) -> str:
    if isinstance(data, dict):
        inner = data.get("error") or data.get("message") or data.get("detail")
        return _error_text(inner) if isinstance(inner, dict) else str(inner or "")
    return ""


def _server_message(response: httpx2.Response) -> str:
    try:
        text = _error_text(response.json())
    except (ValueError, httpx2.HTTPError):
        text = ""
    with contextlib.suppress(httpx2.HTTPError):
        text = text or response.text
    return _one_line(text or response.reason_phrase)[:300]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Reply:
    """A streamed reply as it grows: with the loop guard, what may still start a loop is
    held back from the stream, and a loop ends it."""

    def __init__(self, guard: bool, emit: Callable[[str], None]) -> None:
        self._guard = guard
        self._emit = emit
        self.text = ""
        self._shown = 0
        self.looped = False

    def add(self, piece: str) -> None:
        self.text += piece
        if not self._guard:
            self._show(len(self.text))
            return
        loop = loop_start(self.text)
        if loop is not None:
            self.text, self.looped = kept_at(self.text, loop, self._shown), True
            return
        self._show(settled_until(self.text))

    def add_whole(self, text: str) -> None:
        """All of a reply at once (a server that does not stream): only the loop is cut."""
        loop = loop_start(text) if self._guard else None
        self.text, self.looped = (text, False) if loop is None else (text[:loop].rstrip(), True)

    def end(self) -> str:
        self._show(len(self.text))
        return self.text

    def _show(self, upto: int) -> None:
        if upto > self._shown:
            self._emit(self.text[self._shown : upto])
            self._shown = upto


def _cut(text: str, stops: Sequence[str]) -> str:
    """The text up to the earliest of `stops`."""
    found = [i for i in (text.find(stop) for stop in stops if stop) if i >= 0]
    return text[: min(found)] if found else text


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
