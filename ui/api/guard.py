"""The guard in front of `/v1/`: per-client rate limit, API key, body size, and a last-resort 500.

Everything it counts belongs to the app instance (`create_app` makes one `RateLimiter` per app).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.settings import Settings
from ui.api.errors import error_response, log


class RateLimiter:
    """Token bucket per client: `burst` requests at once, refilled at `per_minute`."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token; 0.0 if allowed, else the seconds until a token is back."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > 10_000:  # forget clients whose bucket has refilled
                full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
                for k in full:
                    del self._buckets[k]
            return wait


class Guard:
    """ASGI middleware for `/v1/`: per-IP rate limit (429), bearer key (401), body size (413);
    the chat's `/login` is rate limited too.

    Also turns any exception that escapes a handler (on any path) into a JSON 500 without a
    traceback, logged here.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings, limiter: RateLimiter) -> None:
        self.app = app
        self.key = settings.api_key.get_secret_value().encode() if settings.api_key else None
        self.max_bytes = settings.max_request_bytes
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            path = scope["path"]
            if path.startswith("/v1/") or path == "/v1":
                refusal = self.refuse(scope)
                if refusal is not None:
                    await refusal(scope, receive, send_tracking)
                    return
                receive = self.limited(receive)
            elif path == "/login":  # the chat's sign-in takes the same key: no unlimited guessing
                refusal = self.throttle(scope)
                if refusal is not None:
                    await refusal(scope, receive, send_tracking)
                    return
            await self.app(scope, receive, send_tracking)
        except Exception as e:
            log.error("unhandled error on %s %s", scope.get("method"), scope["path"], exc_info=e)
            if not started:
                await error_response(500, "internal error; the server log has the details")(
                    scope, receive, send
                )

    def throttle(self, scope: Scope) -> JSONResponse | None:
        client = scope.get("client")
        wait = self.limiter.take(client[0] if client else "unknown")
        if wait > 0:
            return error_response(
                429,
                f"too many requests; retry in {wait:.1f} s",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        return None

    def refuse(self, scope: Scope) -> JSONResponse | None:
        throttled = self.throttle(scope)
        if throttled is not None:
            return throttled
        headers = Headers(scope=scope)
        if self.key is not None:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.key):
                return error_response(
                    401,
                    "missing or wrong API key: send `Authorization: Bearer <RAG_API_KEY>`",
                    headers={"WWW-Authenticate": "Bearer"},
                )
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return error_response(413, f"the request body is larger than {self.max_bytes} bytes")
        return None

    def limited(self, receive: Receive) -> Receive:
        """Count body bytes as they arrive (a chunked request has no Content-Length)."""
        seen = 0

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, f"the request body is larger than {self.max_bytes} bytes")
            return message

        return wrapped
