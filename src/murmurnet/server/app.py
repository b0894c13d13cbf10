"""The FastAPI application: OpenAI-compatible routes on one shared runtime.

Concurrent requests run on the same runtime, so their model calls share the engine's
running batch. With an API key every route but the probes (`/health`, `/ready`) and the
page needs `Authorization: Bearer KEY`: Kubernetes probes cannot send a key from a Secret.
At most `max_runs` runs are admitted at once; beyond that a request gets 429 with
Retry-After instead of waiting without bound.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import Match

from murmurnet.api import RunHandle, Runtime
from murmurnet.errors import MurmurError
from murmurnet.server import errors
from murmurnet.server.chat import STREAM_HEADERS, ChatRun
from murmurnet.server.limits import Admission, BodyLimit
from murmurnet.server.metrics import Metrics
from murmurnet.server.profiles import Profile, profiles
from murmurnet.server.runs import RunLog
from murmurnet.server.schemas import ChatRequest, ModelCard, MurmurRequest
from murmurnet.types import Answer

OPEN_ROUTES = frozenset({"/health", "/ready", "/"})
"""The probes say only whether the model loaded; the page holds no data and sends the key
with every call it makes."""
RETRY_AFTER_SECONDS = 2


def answer_json(answer: Answer) -> dict[str, Any]:
    """The whole blackboard of a run, with its timings and token counts."""
    data = answer.model_dump(mode="json")
    data["usage"] = {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }
    return data


def create_app(
    runtime: Runtime,
    api_key: str | None = None,
    request_timeout: float = 600.0,
    max_runs: int = 32,
) -> FastAPI:
    """The app serving `runtime`; the caller owns the runtime and closes it."""
    offered = profiles(runtime.config)
    started = int(time.time())
    ready = threading.Event()
    failed: list[str] = []
    admission = Admission(max_runs)
    runs = RunLog()
    runtime.subscribe(runs)
    metrics = Metrics(runtime, lambda: admission.active)
    runtime.subscribe(metrics)

    def load() -> None:
        try:
            runtime.pool.get("default")
        except MurmurError as exc:
            failed.append(exc.one_line())
        else:
            ready.set()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=load, name="murmurnet-load", daemon=True).start()
        yield

    app = FastAPI(title="MurmurNet", version="1", docs_url=None, redoc_url=None, lifespan=lifespan)
    errors.install(app)
    app.add_middleware(BodyLimit)

    @app.middleware("http")
    async def authorise(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if api_key is None or request.url.path in OPEN_ROUTES:
            return await call_next(request)
        sent = request.headers.get("authorization", "")
        if not secrets.compare_digest(sent.encode(), f"Bearer {api_key}".encode()):
            message = "a valid API key is required: Authorization: Bearer <key>"
            content = errors.body(message, "invalid_request_error", "invalid_api_key")
            return JSONResponse(content, status_code=401)
        return await call_next(request)

    # Added last, so outermost: refused requests (401, 413) are counted too.
    @app.middleware("http")
    async def count(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        tick = time.perf_counter()
        response = await call_next(request)
        route = route_of(request)
        profile_name = getattr(request.state, "profile", "")
        metrics.requests.labels(route, profile_name, str(response.status_code)).inc()
        metrics.request_seconds.labels(route, profile_name).observe(time.perf_counter() - tick)
        return response

    def route_of(request: Request) -> str:
        """The route's template ("/v1/murmur/{run_id}"), also for a request refused before
        routing; "unmatched" for any other path, so scans cannot grow the label set."""
        if (matched := request.scope.get("route")) is not None:
            return str(getattr(matched, "path", "unmatched"))
        for candidate in app.routes:
            if (
                isinstance(candidate, APIRoute)
                and candidate.matches(request.scope)[0] != Match.NONE
            ):
                return candidate.path
        return "unmatched"

    def profile(name: str, http: Request) -> Profile:
        if name not in offered:
            raise errors.APIError(
                404,
                f"the model {name!r} does not exist; GET /v1/models lists them",
                code="model_not_found",
                param="model",
            )
        http.state.profile = name
        return offered[name]

    def admit() -> Callable[[RunHandle], None]:
        """A place for one more run, or 429; the returned callback tracks the started run
        and gives the place back when it ends."""
        if not admission.enter():
            raise errors.APIError(
                429,
                f"the server is busy ({admission.limit} runs in progress); retry shortly",
                "rate_limit_error",
                code="queue_full",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )

        def started(handle: RunHandle) -> None:
            runs.track(handle)
            handle.future.add_done_callback(lambda _: admission.leave())

        return started

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(
            files("murmurnet.server").joinpath("static/index.html").read_text("utf-8")
        )

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    def is_ready() -> JSONResponse:
        """200 once the default model is loaded; 503 while it loads or when it failed."""
        if ready.is_set():
            return JSONResponse({"status": "ready"})
        if failed:
            return JSONResponse({"status": "failed", "error": failed[0]}, status_code=503)
        return JSONResponse({"status": "loading"}, status_code=503)

    app.state.metrics_registry = metrics.registry
    if runtime.config.monitoring.enable_prometheus:

        @app.get("/metrics")
        def scrape() -> Response:
            return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    def list_models() -> dict[str, Any]:
        cards = [
            ModelCard(id=p.name, created=started, owned_by=p.owned_by).model_dump()
            for p in offered.values()
        ]
        return {"object": "list", "data": cards}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: ChatRequest, http: Request) -> Response:
        chosen = profile(request.model, http)
        on_start = admit()
        try:
            run = ChatRun(runtime, request, chosen, on_start)
        except BaseException:
            admission.leave()
            raise
        if request.stream:
            return run.stream(request_timeout)
        return await run.answer(http, request_timeout)

    @app.post("/v1/murmur", response_model=None)
    async def murmur(request: MurmurRequest, http: Request) -> Response:
        chosen = profile(request.model, http)
        on_start = admit()
        handle = runtime.start(request.question, **chosen.settings)
        on_start(handle)
        if not request.wait:
            location = f"/v1/murmur/{handle.id}"
            content = {"id": handle.id, "status": "running", "events": f"{location}/events"}
            return JSONResponse(content, status_code=202, headers={"Location": location})
        answer = await ChatRun.wait(handle, http, request_timeout)
        return JSONResponse(answer_json(answer))

    def tracked(run_id: str) -> RunHandle:
        handle = runs.handle(run_id)
        if handle is None:
            raise errors.APIError(404, f"no recent run {run_id!r}", code="run_not_found")
        return handle

    @app.get("/v1/murmur/{run_id}", response_model=None)
    def result(run_id: str) -> Response:
        handle = tracked(run_id)
        if not handle.done:
            return JSONResponse({"id": run_id, "status": "running"}, status_code=202)
        try:
            return JSONResponse(answer_json(handle.result()))
        except MurmurError as exc:
            raise errors.from_murmur(exc) from None

    @app.get("/v1/murmur/{run_id}/events")
    def events(run_id: str) -> StreamingResponse:
        tracked(run_id)

        async def stream() -> AsyncIterator[str]:
            async for event in runs.follow(run_id):
                yield f"event: {event.type}\ndata: {event.model_dump_json()}\n\n"
            yield f"event: end\ndata: {json.dumps({'id': run_id})}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers=STREAM_HEADERS)

    return app
