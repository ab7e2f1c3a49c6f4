"""`/healthz`, and the answer for any other path under `/v1/` (404, or 405 naming the allowed methods)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ui.api.common import EngineDep, SettingsDep
from ui.api.errors import documented, error_response

health = APIRouter(tags=["service"], responses=documented(503))


@health.get("/healthz")
def healthz(engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """Liveness and what is indexed (no key needed); a 503 when the vector store cannot be reached."""
    engine.store.count()
    return {
        "status": "ok",
        "documents": len(engine.documents()),
        "chunks": len(engine.lexical.records),
        "backend": settings.llm_backend,
    }


def fallback(*routers: APIRouter) -> APIRouter:
    """A router for every other method and path under `/v1/` and on `/healthz` (include it last):
    405 with the methods `routers` allow on that path, else 404. Any method: one the API does not
    know (TRACE, QUERY) must not fall through to the chat mounted at `/`."""
    router = APIRouter(include_in_schema=False)
    unknown = _Unknown([r for router in routers for r in router.routes if isinstance(r, APIRoute)])
    for path in ("/v1/{rest:path}", "/v1", "/healthz"):
        # An ASGI app as the endpoint: Starlette then routes every method to it.
        router.routes.append(Route(path, unknown, include_in_schema=False))
    return router


class _Unknown:
    """The answer for a method or path the API does not serve."""

    def __init__(self, routes: list[APIRoute]) -> None:
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        allowed = sorted({m for r in self.routes if r.path_regex.match(path) for m in r.methods or ()})
        if allowed:
            message = f"{method} is not allowed on {path}; use {', '.join(allowed)}"
            response = error_response(405, message, headers={"Allow": ", ".join(allowed)})
        else:
            response = error_response(404, f"no such endpoint: {path}")
        await response(scope, receive, send)
