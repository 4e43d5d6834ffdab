"""The application factory: `create_app(settings)`; its lifespan opens the parts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__
from app.api import (
    account,
    auth,
    authoring,
    health,
    pages,
    reports,
    session_controls,
    sessions,
    tutor,
)
from app.api.openapi import describe_errors
from app.authoring import Library
from app.authoring import load as load_authored
from app.errors import AllianceError
from app.llm.base import ChatModel
from app.observability.requests import RequestContext
from app.retention import retention_loop
from app.services import Services
from app.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pure ASGI, so streams pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings | None = None,
    *,
    client_model: ChatModel | None = None,
    evaluator_model: ChatModel | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.open(
            settings, client_model=client_model, evaluator_model=evaluator_model
        )
        app.state.services = services
        # Personas written in the browser join the built-in library (app/authoring.py).
        app.state.library = Library(services.personas)
        await load_authored(app.state.library, services.database)
        # Old sessions are deleted at start-up and then hourly (ALLIANCE_RETENTION_DAYS).
        retention = asyncio.create_task(retention_loop(services.database, settings.retention_days))
        try:
            yield
        finally:
            retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retention
            await services.close()

    app = FastAPI(
        title="Alliance practice",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )

    @app.exception_handler(AllianceError)
    async def _domain_error(_request: Request, exc: AllianceError) -> JSONResponse:
        # A limit or a busy model says when to come back (LimitReached, LLMRateLimited).
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after else None
        return JSONResponse(
            {"detail": exc.message, "kind": exc.kind},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'body'}: {err['msg']}"
            for err in exc.errors()[:5]
        ]
        return JSONResponse(
            {"detail": "; ".join(problems), "kind": "invalid_input"}, status_code=422
        )

    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(auth.web)
    app.include_router(tutor.router)
    app.include_router(tutor.admin_router)
    app.include_router(tutor.pages_router)
    app.include_router(authoring.router)
    app.include_router(authoring.pages_router)
    app.include_router(account.router)
    app.include_router(account.pages_router)
    app.include_router(sessions.router)
    app.include_router(session_controls.router)
    app.include_router(reports.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "frontend" / "static"), name="static")
    describe_errors(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext)
    return app
