"""Request ids and the access log, as pure ASGI middleware so streamed responses pass untouched.

`X-Request-ID` from the proxy in front is kept when well-formed (else a new one is made), set
for everything logged while the request runs (including the turn run it starts), and returned
on the response. The access log names the route template, never the query or body.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability.logs import new_request_id, request_id_var

log = logging.getLogger("app.access")
_QUIET = ("/healthz", "/readyz", "/metrics", "/static/")


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = new_request_id(incoming)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path: str = scope.get("path", "")
            if not path.startswith(_QUIET):
                route = scope.get("route")
                log.info(
                    "%s %s %s",
                    scope.get("method", ""),
                    getattr(route, "path", path),
                    status,
                    extra={
                        "method": scope.get("method", ""),
                        "path": getattr(route, "path", path),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            request_id_var.reset(token)
