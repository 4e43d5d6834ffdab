"""Annotated dependency aliases for routes. Routes stay thin: parse, call one service, return."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from app.auth.audit import record_reads
from app.auth.principal import Principal
from app.auth.web_sessions import csrf_ok, current_principal
from app.errors import Forbidden, Unauthenticated
from app.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_optional_principal(
    request: Request, services: ServicesDep
) -> AsyncIterator[Principal | None]:
    principal = await current_principal(request, services.database, services.settings)
    yield principal
    if principal is not None and principal.reads:
        # Every read of someone else's transcript is recorded, once per request and session.
        route = getattr(request.scope.get("route"), "path", request.url.path)
        await record_reads(services.database, principal, f"{request.method} {route}")


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


async def get_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise Unauthenticated("Please sign in again; your session has ended.")
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def get_writer(request: Request, principal: CurrentUser) -> Principal:
    """The principal of a state-changing request, with its CSRF token checked."""
    if not csrf_ok(request, principal):
        raise Forbidden("This request was refused for your safety. Reload the page and try again.")
    return principal


CurrentWriter = Annotated[Principal, Depends(get_writer)]
