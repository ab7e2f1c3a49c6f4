"""One JSON error shape, `{"error": {"type", "message"}}`, with the status that fits.

The core's errors map by kind: a wrong value 422, unknown 404, a clash 409, bad configuration or an
unreachable backend 503, any other error a person can fix 400; anything else is a bug, logged here
and answered with a 500 that leaks nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.errors import BackendUnavailable, BadRequest, ConfigError, Conflict, NotFound, RagError

log = logging.getLogger("newsrag.server")

TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "internal_error",
    503: "backend_unavailable",
}


class ApiError(Exception):
    """An error the edge reports as-is: status, OpenAI-style type, and a message a person can act on."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers
        self.type = type or TYPES.get(status, "error")


def error_body(status: int, message: str, type: str | None = None, code: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"type": type or TYPES.get(status, "error"), "message": message}
    if code:
        err["code"] = code
    return {"error": err}


def error_response(
    status: int,
    message: str,
    type: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(status, message, type, code), status_code=status, headers=headers)


def core_error(e: Exception) -> ApiError:
    """The core's error vocabulary in HTTP terms.

    Bad configuration (a backend not set up, a missing model, an unusable data dir) is a 503, not a
    400: the caller did nothing wrong and cannot fix it, and the same request works once the operator
    has; the message says what to set, and the type tells a client it is not its mistake.
    """
    if isinstance(e, ApiError):
        return e
    if isinstance(e, NotFound):
        return ApiError(404, str(e))
    if isinstance(e, Conflict):
        return ApiError(409, str(e))
    if isinstance(e, BadRequest):
        return ApiError(422, str(e))
    if isinstance(e, ConfigError):
        return ApiError(503, str(e), type="configuration_error")
    if isinstance(e, BackendUnavailable):
        return ApiError(503, str(e))
    if isinstance(e, RagError):
        return ApiError(400, str(e))
    log.error("internal error", exc_info=e)
    return ApiError(500, "internal error; the server log has the details")


def validation_message(e: RequestValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


async def _api_error(request: Request, e: Exception) -> JSONResponse:
    a = core_error(e)
    return error_response(a.status, a.message, a.type, a.code, a.headers)


async def _invalid(request: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, RequestValidationError)
    return error_response(422, validation_message(e))


async def _http(request: Request, e: Exception) -> JSONResponse:
    assert isinstance(e, HTTPException)
    if not request.url.path.startswith(("/v1", "/healthz")):
        # Paths the API does not own keep the plain FastAPI shape.
        return JSONResponse({"detail": e.detail}, status_code=e.status_code, headers=e.headers)
    return error_response(e.status_code, str(e.detail), headers=e.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app answers with, in the one JSON shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RagError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
