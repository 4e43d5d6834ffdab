"""The sign-in backends behind one interface: `dev`, `oidc` and `proxy`.

`start` begins a sign-in from `/auth/login`: it either knows who the person is at once (a
trusted proxy has already signed them in) or answers with a redirect (to the provider, or to
the dev sign-in form). `finish` completes a sign-in that went to a provider. `logout_url` says
where the browser should go after this service's session ends, to end the provider's too.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from app.auth.identity import Identity
from app.auth.oidc import PENDING_COOKIE, PENDING_MAX_AGE, OidcClient, seal, unseal
from app.auth.proxy import identity_from_headers
from app.errors import NotFound
from app.settings import Settings


class SignInBackend(Protocol):
    name: str
    # Whether the sign-in names cohorts, so memberships follow it at every sign-in.
    sync_cohorts: bool

    async def start(self, request: Request) -> Identity | Response: ...

    async def finish(self, request: Request) -> Identity: ...

    async def logout_url(self, request: Request, id_token: str | None) -> str | None: ...


class DevBackend:
    name = "dev"
    sync_cohorts = False

    async def start(self, request: Request) -> Identity | Response:
        return RedirectResponse("/", status_code=303)

    async def finish(self, request: Request) -> Identity:
        raise NotFound("There is no provider sign-in to finish here.")

    async def logout_url(self, request: Request, id_token: str | None) -> str | None:
        return None


class ProxyBackend:
    name = "proxy"
    sync_cohorts = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def start(self, request: Request) -> Identity | Response:
        return identity_from_headers(request, self.settings)

    async def finish(self, request: Request) -> Identity:
        raise NotFound("There is no provider sign-in to finish here.")

    async def logout_url(self, request: Request, id_token: str | None) -> str | None:
        return self.settings.proxy_logout_url or None


class OidcBackend:
    name = "oidc"

    def __init__(self, settings: Settings, client: OidcClient | None = None) -> None:
        self.settings = settings
        self.client = client or OidcClient(settings)
        self.sync_cohorts = bool(settings.oidc_cohort_claim)

    def _secret(self) -> str:
        return self.settings.secret_key.get_secret_value()

    async def start(self, request: Request) -> Identity | Response:
        redirect_uri = self.settings.oidc_redirect_url or str(request.url_for("oidc_callback"))
        url, pending = await self.client.begin(redirect_uri)
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            PENDING_COOKIE,
            seal(pending, self._secret()),
            max_age=PENDING_MAX_AGE,
            httponly=True,
            secure=self.settings.session_cookie_secure,
            samesite="lax",
            path="/auth",
        )
        return response

    async def finish(self, request: Request) -> Identity:
        pending = unseal(request.cookies.get(PENDING_COOKIE), self._secret())
        return await self.client.finish(pending, dict(request.query_params))

    async def logout_url(self, request: Request, id_token: str | None) -> str | None:
        back = self.settings.oidc_post_logout_redirect_url or str(request.url_for("home"))
        return await self.client.logout_url(id_token, back)


def build_backend(settings: Settings) -> SignInBackend:
    if settings.auth_backend == "oidc":
        return OidcBackend(settings)
    if settings.auth_backend == "proxy":
        return ProxyBackend(settings)
    return DevBackend()


def backend_of(request: Request, settings: Settings) -> SignInBackend:
    """The app's backend, built once (it caches the provider's metadata and keys)."""
    backend: SignInBackend | None = getattr(request.app.state, "sign_in_backend", None)
    if backend is None or getattr(backend, "settings", settings) is not settings:
        backend = build_backend(settings)
        request.app.state.sign_in_backend = backend
    return backend
