"""The FastAPI application: OpenAI-compatible routes on one shared runtime.

Concurrent requests run on the same runtime, so their model calls share the engine's
running batch. With an API key every route but `/health` needs `Authorization: Bearer KEY`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from murmurnet.api import Runtime
from murmurnet.errors import MurmurError
from murmurnet.server import errors
from murmurnet.server.chat import ChatRun
from murmurnet.server.profiles import Profile, profiles
from murmurnet.server.schemas import ChatRequest, ModelCard

OPEN_ROUTES = frozenset({"/health"})


def create_app(
    runtime: Runtime, api_key: str | None = None, request_timeout: float = 600.0
) -> FastAPI:
    """The app serving `runtime`; the caller owns the runtime and closes it."""
    offered = profiles(runtime.config)
    started = int(time.time())
    ready = threading.Event()
    failed: list[str] = []

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

    def profile(name: str) -> Profile:
        if name not in offered:
            raise errors.APIError(
                404,
                f"the model {name!r} does not exist; GET /v1/models lists them",
                code="model_not_found",
                param="model",
            )
        return offered[name]

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

    @app.get("/v1/models")
    def list_models() -> dict[str, Any]:
        cards = [
            ModelCard(id=p.name, created=started, owned_by=p.owned_by).model_dump()
            for p in offered.values()
        ]
        return {"object": "list", "data": cards}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: ChatRequest, http: Request) -> Response:
        run = ChatRun(runtime, request, profile(request.model))
        if request.stream:
            return run.stream(request_timeout)
        return await run.answer(http, request_timeout)

    return app
