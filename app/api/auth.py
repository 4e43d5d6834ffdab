"""Sign-in routes. Only the dev backend for now: a name, on loopback unless explicitly allowed."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from app.auth.web_sessions import sign_in, sign_out
from app.deps import CurrentWriter, ServicesDep
from app.errors import Forbidden, InvalidInput

router = APIRouter(prefix="/api/auth", tags=["auth"])


class DevSignIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)


class UserOut(BaseModel):
    id: str
    display_name: str
    role: str


class SignedIn(BaseModel):
    user: UserOut
    csrf_token: str


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


@router.post("/dev", response_model=SignedIn)
async def dev_sign_in(
    body: DevSignIn, request: Request, response: Response, services: ServicesDep
) -> SignedIn:
    settings = services.settings
    if settings.auth_backend != "dev":
        raise Forbidden("The development sign-in is switched off here; use your institution's.")
    if not settings.allow_dev_auth_remote and not _loopback(request):
        raise Forbidden("The development sign-in only works from this computer.")
    name = " ".join(body.name.split())
    if not name:
        raise InvalidInput("Type your name to sign in.")
    subject = "dev:" + name.casefold()
    principal = await sign_in(
        database=services.database,
        settings=settings,
        response=response,
        subject=subject,
        display_name=name,
        role="trainee",
    )
    return SignedIn(
        user=UserOut(
            id=principal.user_id, display_name=principal.display_name, role=principal.role
        ),
        csrf_token=principal.csrf_token,
    )


@router.post("/logout", status_code=204)
async def logout(
    request: Request, response: Response, services: ServicesDep, _principal: CurrentWriter
) -> Response:
    await sign_out(request, response, services.database)
    response.status_code = 204
    return response
