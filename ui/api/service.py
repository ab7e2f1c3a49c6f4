"""`/healthz`, and the answer for any other path under `/v1/` (404, or 405 naming the allowed methods)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute

from ui.api.common import EngineDep, SettingsDep
from ui.api.errors import ApiError

health = APIRouter(tags=["service"])


@health.get("/healthz")
def healthz(engine: EngineDep, settings: SettingsDep) -> dict[str, Any]:
    """Liveness and what is indexed (no key needed)."""
    return {
        "status": "ok",
        "documents": len(engine.documents()),
        "chunks": len(engine.lexical.records),
        "backend": settings.llm_backend,
    }


def fallback(*routers: APIRouter) -> APIRouter:
    """A router for every other path under `/v1/` (include it last): 405 with the methods `routers`
    allow on that path, else 404."""
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    router = APIRouter(include_in_schema=False)

    @router.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(rest: str, request: Request) -> None:
        path = f"/v1/{rest}"
        allowed = sorted({m for r in routes if r.path_regex.match(path) for m in r.methods or ()})
        if allowed:
            raise ApiError(
                405,
                f"{request.method} is not allowed on {path}; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        raise ApiError(404, f"no such endpoint: {path}")

    return router
