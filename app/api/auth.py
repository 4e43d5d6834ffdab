"""Sign-in routes.

`/auth/login` starts a sign-in with the configured backend and `/auth/callback` finishes an
OpenID Connect one; both answer a person who cannot be let in with a page that says why. The dev
sign-in (`POST /api/auth/dev`) takes a name, and a role and cohort for trying things out; it
works only with the dev backend, and only from this computer unless explicitly allowed.
"""

from __future__ import annotations

import ipaddress
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from app.api.pages import static_url, templates
from app.auth.backends import backend_of
from app.auth.identity import AccessDenied, Identity
from app.auth.oidc import PENDING_COOKIE, ProviderUnavailable, SignInFailed
from app.auth.principal import Role
from app.auth.web_sessions import sign_in, sign_out
from app.deps import CurrentUser, CurrentWriter, ServicesDep
from app.errors import AllianceError, Forbidden, InvalidInput
from app.services import Services

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/auth", tags=["auth"])
web = APIRouter(prefix="/auth", include_in_schema=False)


class DevSignIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    role: Role = "trainee"
    cohort: str | None = Field(default=None, max_length=120)


class UserOut(BaseModel):
    id: str
    display_name: str
    role: str


class SignedIn(BaseModel):
    user: UserOut
    csrf_token: str


class Me(BaseModel):
    user: UserOut
    cohort_ids: list[str]


class SignedOut(BaseModel):
    # Where the browser should go next: the provider's sign-out page, or null for home.
    redirect: str | None


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
    cohort = " ".join((body.cohort or "").split())
    principal = await sign_in(
        database=services.database,
        settings=settings,
        response=response,
        identity=Identity(
            subject="dev:" + name.casefold(),
            display_name=name,
            role=body.role,
            cohorts=(cohort,) if cohort else (),
        ),
        sync_cohorts=True,
    )
    return SignedIn(
        user=UserOut(
            id=principal.user_id, display_name=principal.display_name, role=principal.role
        ),
        csrf_token=principal.csrf_token,
    )


@router.get("/me", response_model=Me)
async def me(principal: CurrentUser) -> Me:
    return Me(
        user=UserOut(
            id=principal.user_id, display_name=principal.display_name, role=principal.role
        ),
        cohort_ids=sorted(principal.cohort_ids),
    )


@router.post("/logout", response_model=SignedOut)
async def logout(
    request: Request, response: Response, services: ServicesDep, _principal: CurrentWriter
) -> SignedOut:
    id_token = await sign_out(request, response, services.database)
    backend = backend_of(request, services.settings)
    return SignedOut(redirect=await backend.logout_url(request, id_token))


def _refusal(request: Request, services: Services, exc: AllianceError) -> Response:
    log.info("sign-in refused: %s", exc.kind)
    response = templates.TemplateResponse(
        request,
        "auth_error.html",
        {
            "user": None,
            "csrf_token": "",
            "offline": False,
            "static_url": static_url,
            "message": exc.message,
            "retry": not isinstance(exc, AccessDenied),
            "backend": services.settings.auth_backend,
        },
        status_code=exc.status_code,
    )
    response.delete_cookie(PENDING_COOKIE, path="/auth")
    return response


async def _signed_in(services: Services, identity: Identity, sync: bool) -> Response:
    response = RedirectResponse("/practice", status_code=303)
    await sign_in(
        database=services.database,
        settings=services.settings,
        response=response,
        identity=identity,
        sync_cohorts=sync,
    )
    response.delete_cookie(PENDING_COOKIE, path="/auth")
    return response


@web.get("/login", name="sign_in_start")
async def login(request: Request, services: ServicesDep) -> Response:
    backend = backend_of(request, services.settings)
    try:
        started = await backend.start(request)
    except (AccessDenied, SignInFailed, ProviderUnavailable) as exc:
        return _refusal(request, services, exc)
    if isinstance(started, Identity):
        return await _signed_in(services, started, backend.sync_cohorts)
    return started


@web.get("/callback", name="oidc_callback", response_class=HTMLResponse)
async def callback(request: Request, services: ServicesDep) -> Response:
    backend = backend_of(request, services.settings)
    if backend.name != "oidc":
        return _refusal(
            request, services, SignInFailed("This service does not use a sign-in provider.")
        )
    try:
        identity = await backend.finish(request)
    except (AccessDenied, SignInFailed, ProviderUnavailable) as exc:
        return _refusal(request, services, exc)
    return await _signed_in(services, identity, backend.sync_cohorts)
