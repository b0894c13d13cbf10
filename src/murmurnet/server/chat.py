"""`POST /v1/chat/completions`: the request as a question with its conversation, the answer in
the OpenAI chat shape, whole or as server-sent events.

The last message is the question; earlier user/assistant pairs are the conversation, as a
session's turns are; system text goes before the question, since a murmur has no single
system prompt to put it in. A stream sends only deltas, a final chunk with the finish
reason, the usage chunk when asked (`stream_options.include_usage`), then `[DONE]`. A client
that goes away cancels its run, which frees its sequences in the engine at once.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse

from murmurnet.api import RunHandle, Runtime
from murmurnet.errors import CancelledError, MurmurError
from murmurnet.memory import Turn
from murmurnet.server.errors import APIError, body, from_murmur
from murmurnet.server.profiles import Profile
from murmurnet.server.schemas import ChatRequest
from murmurnet.types import Answer

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def conversation(request: ChatRequest) -> tuple[str, list[Turn]]:
    """The question (system text first) and the earlier turns."""
    *earlier, last = request.messages
    if last.role != "user" or not last.text().strip():
        raise APIError(400, "the last message must be a user message with text", param="messages")
    system = [m.text() for m in request.messages if m.role in ("system", "developer")]
    turns: list[Turn] = []
    asked: str | None = None
    for message in earlier:
        if message.role == "user":
            asked = message.text()
        elif message.role == "assistant" and asked is not None:
            turns.append(Turn(question=asked, answer=message.text()))
            asked = None
    question = "\n\n".join([*(s for s in system if s.strip()), last.text()])
    return question, turns


def settings(request: ChatRequest, profile: Profile) -> dict[str, Any]:
    """The profile's settings with the request's sampling fields where they make sense."""
    changed = dict(profile.settings)
    if request.temperature is not None:
        changed["output_temp"] = request.temperature
    limit = request.max_completion_tokens or request.max_tokens
    if limit is not None:
        changed["output_tokens"] = limit
        changed["answer_tokens"] = limit
    if request.seed is not None:
        changed["seed"] = request.seed
    return changed


def stops(request: ChatRequest) -> list[str]:
    stop = request.stop or []
    return [s for s in ([stop] if isinstance(stop, str) else stop) if s]


def cut(text: str, at: list[str]) -> tuple[str, bool]:
    """The text up to the first stop string, and whether one was found."""
    found = [i for i in (text.find(s) for s in at) if i >= 0]
    return (text[: min(found)], True) if found else (text, False)


def usage(answer: Answer) -> dict[str, int]:
    prompt, completion = answer.prompt_tokens, answer.completion_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class ChatRun:
    """One request's run on the shared runtime."""

    def __init__(
        self,
        runtime: Runtime,
        request: ChatRequest,
        profile: Profile,
        on_start: Callable[[RunHandle], None] = lambda _: None,
    ) -> None:
        self.request = request
        self.profile = profile
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.question, self.turns = conversation(request)
        self.runtime = runtime
        self.pieces: asyncio.Queue[str | None] = asyncio.Queue()
        self.on_start = on_start

    def start(self) -> RunHandle:
        loop = asyncio.get_running_loop()

        def on_token(piece: str) -> None:
            loop.call_soon_threadsafe(self.pieces.put_nowait, piece)

        handle = self.runtime.start(
            self.question,
            history=self.turns,
            on_token=on_token if self.request.stream else None,
            **settings(self.request, self.profile),
        )
        handle.future.add_done_callback(
            lambda _: loop.call_soon_threadsafe(self.pieces.put_nowait, None)
        )
        self.on_start(handle)
        return handle

    async def answer(self, http: Request, timeout: float) -> JSONResponse:
        answer = await self.wait(self.start(), http, timeout)
        text, stopped = cut(answer.text, stops(self.request))
        content = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.profile.name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop" if stopped else answer.finish_reason,
                }
            ],
            "usage": usage(answer),
        }
        return JSONResponse(content)

    @staticmethod
    async def wait(handle: RunHandle, http: Request, timeout: float) -> Answer:
        """The answer; the run is cancelled when the client leaves or time runs out."""
        waiting = asyncio.wrap_future(handle.future)
        deadline = time.monotonic() + timeout
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=0.25)
            if done:
                try:
                    return waiting.result()
                except MurmurError as exc:
                    raise from_murmur(exc) from None
            if await http.is_disconnected():
                handle.cancel("the client disconnected")
                raise APIError(499, "the client disconnected", code="client_closed")
            if time.monotonic() > deadline:
                handle.cancel("request timeout")
                raise APIError(504, f"no answer within {timeout:g} s", "timeout_error")

    def stream(self, timeout: float) -> StreamingResponse:
        handle = self.start()
        return StreamingResponse(
            self._events(handle, timeout), media_type="text/event-stream", headers=STREAM_HEADERS
        )

    def _chunk(self, delta: dict[str, str], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return self._event({"choices": [choice]})

    def _event(self, fields: dict[str, Any]) -> str:
        data = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.profile.name,
            **fields,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def _events(self, handle: RunHandle, timeout: float) -> AsyncIterator[str]:
        at = stops(self.request)
        keep = max((len(s) for s in at), default=1) - 1
        sent, stopped = "", False
        try:
            yield self._chunk({"role": "assistant", "content": ""})
            async with asyncio.timeout(timeout):
                while (piece := await self.pieces.get()) is not None:
                    if stopped:
                        continue
                    sent += piece
                    text, stopped = cut(sent, at)
                    ready = text if stopped else text[: max(len(text) - keep, 0)]
                    if ready:
                        yield self._chunk({"content": ready})
                        sent = text[len(ready) :] if not stopped else ""
            answer = handle.future.result()
            if sent and not stopped:
                yield self._chunk({"content": sent})
            yield self._chunk({}, "stop" if stopped else answer.finish_reason)
            options = self.request.stream_options
            if options is not None and options.include_usage:
                yield self._event({"choices": [], "usage": usage(answer)})
        except TimeoutError:
            handle.cancel("request timeout")
            yield self._error(APIError(504, f"no answer within {timeout:g} s", "timeout_error"))
        except MurmurError as exc:
            if not isinstance(exc, CancelledError):
                yield self._error(from_murmur(exc))
        finally:
            handle.cancel("the stream ended")  # a no-op once the run is done
        yield "data: [DONE]\n\n"

    def _error(self, error: APIError) -> str:
        return f"data: {json.dumps(body(error.message, error.kind, error.code))}\n\n"
