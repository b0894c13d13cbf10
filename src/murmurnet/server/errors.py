"""Errors as the OpenAI API writes them (`{"error": {"message", "type", "param", "code"}}`),
so that every client shows the message; the edge where typed errors become HTTP statuses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from murmurnet.errors import (
    BackendUnavailableError,
    BlackboardUnavailableError,
    CancelledError,
    ContextOverflowError,
    InputError,
    MurmurError,
)


class APIError(Exception):
    """An error with its HTTP status and OpenAI error type."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind
        self.code, self.param, self.headers = code, param, headers


def body(message: str, kind: str, code: str | None = None, param: str | None = None) -> Any:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def from_murmur(exc: MurmurError) -> APIError:
    """A pipeline error as the status a client can act on."""
    if isinstance(exc, InputError | ContextOverflowError):
        return APIError(400, exc.one_line(), code="invalid_input")
    if isinstance(exc, CancelledError):
        return APIError(408, exc.one_line(), "timeout_error", code="cancelled")
    if isinstance(exc, BackendUnavailableError):
        return APIError(503, exc.one_line(), "server_error", code="backend_unavailable")
    if isinstance(exc, BlackboardUnavailableError):
        return APIError(503, exc.one_line(), "server_error", code="blackboard_unavailable")
    return APIError(500, exc.one_line(), "server_error")


def install(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, APIError)
        content = body(exc.message, exc.kind, exc.code, exc.param)
        return JSONResponse(content, status_code=exc.status, headers=exc.headers)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return JSONResponse(body(message, "invalid_request_error", param=where or None), 400)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return JSONResponse(
            body(str(exc.detail), kind), status_code=exc.status_code, headers=exc.headers
        )

    async def murmur_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, MurmurError)
        return await api_error(_, from_murmur(exc))

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(MurmurError, murmur_error)
