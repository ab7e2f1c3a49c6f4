"""The HTTP edge: one FastAPI app with the Gradio chat at `/`, the API under `/v1/`, docs at `/docs`.

`create_app(engine, settings)` receives a built engine and only assembles: the error mapping, the
routers of `ui.api` (answers, OpenAI-compatible, documents), the guard and the chat. Handlers are
thin (request model → one engine call → response) and find the engine and settings on the app.
The engine is shared by all requests, which run in a thread pool. The guard in front of `/v1/`
(rate limit, API key, body size) and everything it counts belong to the app instance, never to
the module.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Callable

from fastapi import FastAPI

from rag.settings import Settings
from rag.wiring import Engine
from ui.api import answers, documents, openai_compat, service
from ui.api.errors import install_error_handlers
from ui.api.guard import Guard, RateLimiter

__all__ = ["RateLimiter", "check_bind", "create_app", "ui_login"]


def create_app(engine: Engine, settings: Settings, *, ui: bool = True) -> FastAPI:
    """The FastAPI app over a built engine: API under /v1/, /healthz, /docs, the chat at `/`."""
    app = FastAPI(
        title="newsrag",
        version="0.1.0",
        description="Cited question answering over news articles. Every claim in an answer points "
        "to the exact span of the article it came from. See docs/serving.md.",
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    install_error_handlers(app)
    routers = (service.health, answers.router, openai_compat.router, documents.router)
    for router in (*routers, service.fallback(*routers)):
        app.include_router(router)
    app.add_middleware(Guard, settings=settings, limiter=app.state.limiter)
    if settings.cors_origin_list:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    if ui:
        mount_chat(app, engine, settings)  # last: a mount at "/" would shadow every route added after it
    return app


def mount_chat(app: FastAPI, engine: Engine, settings: Settings) -> None:
    """The Gradio chat at `/`; with a key it is behind it too (any user name, the key as password)."""
    # The one place the product turns off Gradio's usage reporting: before gradio is imported.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    from ui.chat import build_chat

    gr.mount_gradio_app(
        app,
        build_chat(engine, settings),
        path="/",
        auth=ui_login(settings.api_key.get_secret_value()) if settings.api_key else None,
        auth_message="Sign in with any user name and the server's RAG_API_KEY as the password.",
        footer_links=["api", "settings"],
        run_history=False,  # nothing offers to save conversations elsewhere
        allowed_paths=None,  # the chat serves no files of ours
        max_file_size=settings.max_request_bytes,  # gradio's upload route exists even unused
        ssr_mode=False,
        mcp_server=False,
    )


def ui_login(key: str) -> Callable[[str, str], bool]:
    """Gradio's login check: any user name, the API key as password (constant-time)."""

    def check(username: str, password: str) -> bool:
        return hmac.compare_digest(password.encode(), key.encode())

    return check


def check_bind(host: str, settings: Settings) -> None:
    """Refuse to listen beyond loopback without an API key (raises ValueError saying why)."""
    if settings.api_key is not None:
        return
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(
        f"refusing to listen on {host} without an API key: anyone who can reach it could use the API. "
        "Set RAG_API_KEY (clients then send `Authorization: Bearer <key>`), or bind to 127.0.0.1."
    )
