"""OpenID Connect sign-in against a real provider on loopback (oidc-provider-mock in a thread).

The browser is an httpx client: requests to the service go to the app in-process, requests to
the provider over loopback HTTP, and the service itself talks to the provider over HTTP. The
whole authorization code + PKCE flow runs as it would for a person.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet
from pydantic import SecretStr

with warnings.catch_warnings():
    # The provider (test-only) still imports authlib.jose; the service itself uses joserfc.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from oidc_provider_mock import User, run_server_in_thread

from app.auth.oidc import PENDING_COOKIE
from app.main import create_app
from app.settings import Settings
from app.storage import repo

APP = "http://127.0.0.1"
# The provider (a test double) calls an Authlib hook that Authlib marks as deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")
USERS = [
    User(sub="ana", claims={"name": "Ana Trainee", "roles": ["student"], "groups": ["cohort-a"]}),
    User(sub="tom", claims={"name": "Tom Tutor", "roles": ["tutor"], "groups": ["cohort-a"]}),
    User(sub="ada", claims={"name": "Ada Admin", "roles": ["admin"]}),
    User(sub="kim", claims={"name": "Kim Keycloak", "realm_access": {"roles": ["tutor"]}}),
    User(sub="nora", claims={"name": "Nora No-Roles", "groups": ["cohort-a"]}),
]


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with (
        pytest.MonkeyPatch.context() as mp,
        run_server_in_thread(user_claims=USERS, require_nonce=True) as server,
    ):
        mp.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider runs on plain loopback HTTP
        yield f"http://localhost:{server.server_port}"


@asynccontextmanager
async def service(settings: Settings, issuer: str, **overrides: Any) -> AsyncIterator[Any]:
    app_settings = settings.model_copy(
        update={
            "auth_backend": "oidc",
            "oidc_issuer": issuer,
            "oidc_client_id": "alliance-test",
            "oidc_client_secret": SecretStr("s3cret"),
            "oidc_cohort_claim": "groups",
            "cohort_prefix": "cohort-",
            **overrides,
        }
    )
    app = create_app(app_settings)
    async with app.router.lifespan_context(app):
        yield app


def browser(app: FastAPI) -> httpx.AsyncClient:
    """One cookie jar, the service in-process, the provider over loopback."""
    return httpx.AsyncClient(
        mounts={APP: httpx.ASGITransport(app=app)}, base_url=APP, follow_redirects=False
    )


async def to_callback(client: httpx.AsyncClient, sub: str) -> httpx.URL:
    """Start at the service, sign in at the provider as `sub`; returns the callback URL."""
    start = await client.get("/auth/login")
    assert start.status_code == 303, start.text
    authorize = httpx.URL(start.headers["location"])
    query = parse_qs(authorize.query.decode())
    assert query["code_challenge_method"] == ["S256"]
    pending = client.cookies.get(PENDING_COOKIE)
    assert pending
    data = json.loads(base64.urlsafe_b64decode(pending.rsplit(".", 1)[0]))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(data["verifier"].encode()).digest())
    assert query["code_challenge"] == [challenge.rstrip(b"=").decode()]
    assert query["state"] == [data["state"]]
    assert query["nonce"] == [data["nonce"]]
    assert query["redirect_uri"] == [f"{APP}/auth/callback"]
    page = await client.get(authorize)
    assert page.status_code == 200  # the provider's sign-in form
    answer = await client.post(authorize, data={"sub": sub})
    assert answer.status_code == 302, answer.text
    back = httpx.URL(answer.headers["location"])
    assert back.path == "/auth/callback"
    return back


async def sign_in(client: httpx.AsyncClient, sub: str) -> httpx.Response:
    back = await to_callback(client, sub)
    return await client.get(back)


async def test_full_login_maps_roles_and_cohorts(settings: Settings, provider: str) -> None:
    async with service(settings, provider) as app, browser(app) as client:
        done = await sign_in(client, "tom")
        assert done.status_code == 303
        assert done.headers["location"] == "/practice"
        assert PENDING_COOKIE not in client.cookies  # used once, then gone
        me = (await client.get("/api/auth/me")).json()
        assert me["user"]["display_name"] == "Tom Tutor"
        assert me["user"]["role"] == "tutor"
        async with app.state.services.database.session() as db:
            user = await db.get(repo.User, me["user"]["id"])
            assert user is not None
            assert user.subject == "oidc:tom"
            cohorts = await repo.user_cohort_ids(db, user_id=user.id)
            named = [(await db.get(repo.Cohort, c)) for c in cohorts]
        assert [c.name for c in named if c] == ["a"]

    async with service(settings, provider) as app, browser(app) as client:
        await sign_in(client, "ana")
        me = (await client.get("/api/auth/me")).json()
        assert me["user"]["role"] == "trainee"
        await sign_in(client, "ada")
        assert (await client.get("/api/auth/me")).json()["user"]["role"] == "admin"


async def test_nested_claim_path_keycloak_style(settings: Settings, provider: str) -> None:
    async with (
        service(settings, provider, oidc_role_claim="realm_access.roles") as app,
        browser(app) as client,
    ):
        done = await sign_in(client, "kim")
        assert done.status_code == 303
        assert (await client.get("/api/auth/me")).json()["user"]["role"] == "tutor"


async def test_missing_role_claim_is_denied_with_a_page(settings: Settings, provider: str) -> None:
    async with service(settings, provider) as app, browser(app) as client:
        denied = await sign_in(client, "nora")
        assert denied.status_code == 403
        assert "text/html" in denied.headers["content-type"]
        assert "did not include the &#39;roles&#39; claim" in denied.text
        assert "alliance_session" not in client.cookies
        assert (await client.get("/api/auth/me")).status_code == 401


async def test_unlisted_role_is_denied_when_trainee_values_are_set(
    settings: Settings, provider: str
) -> None:
    async with (
        service(settings, provider, role_trainee_values=["trainee"]) as app,
        browser(app) as client,
    ):
        denied = await sign_in(client, "ana")  # holds only "student"
        assert denied.status_code == 403
        assert "none of the roles this service accepts" in denied.text
        assert (await client.get("/api/auth/me")).status_code == 401


async def test_tampered_state_is_rejected(settings: Settings, provider: str) -> None:
    async with service(settings, provider) as app, browser(app) as client:
        back = await to_callback(client, "tom")
        query = parse_qs(back.query.decode())
        query["state"] = [query["state"][0][:-2] + "xx"]
        forged = back.copy_with(query=urlencode(query, doseq=True).encode())
        refused = await client.get(forged)
        assert refused.status_code == 400
        assert "could not be verified" in refused.text
        assert "alliance_session" not in client.cookies
        assert (await client.get("/api/auth/me")).status_code == 401


async def test_callback_from_another_browser_is_rejected(settings: Settings, provider: str) -> None:
    async with service(settings, provider) as app, browser(app) as client:
        back = await to_callback(client, "tom")
        async with browser(app) as stranger:  # has the code, not the pending-login cookie
            refused = await stranger.get(back)
            assert refused.status_code == 400
            assert "not started in this browser" in refused.text
            assert (await stranger.get("/api/auth/me")).status_code == 401


async def test_forged_pending_cookie_is_rejected(settings: Settings, provider: str) -> None:
    async with service(settings, provider) as app, browser(app) as client:
        back = await to_callback(client, "tom")
        sealed = client.cookies.get(PENDING_COOKIE) or ""
        payload = json.loads(base64.urlsafe_b64decode(sealed.rsplit(".", 1)[0]))
        payload["state"] = "attacker-chosen"
        forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        client.cookies.set(PENDING_COOKIE, forged + "." + sealed.rsplit(".", 1)[1], path="/auth")
        query = parse_qs(back.query.decode())
        query["state"] = ["attacker-chosen"]
        refused = await client.get(back.copy_with(query=urlencode(query, doseq=True).encode()))
        assert refused.status_code == 400
        assert (await client.get("/api/auth/me")).status_code == 401


async def test_rp_initiated_logout_with_id_token_hint(settings: Settings, provider: str) -> None:
    async with service(settings, provider) as app, browser(app) as client:
        await sign_in(client, "tom")
        me = (await client.get("/api/auth/me")).json()
        csrf = await _csrf(client)
        refused = await client.post("/api/auth/logout")
        assert refused.status_code == 403  # no CSRF token: not signed out
        out = await client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200, out.text
        target = httpx.URL(out.json()["redirect"])
        assert str(target).startswith(provider + "/oauth2/end_session")
        params = parse_qs(target.query.decode())
        assert params["post_logout_redirect_uri"] == [f"{APP}/"]
        assert params["client_id"] == ["alliance-test"]
        keys = KeySet.import_key_set((await client.get(provider + "/jwks")).json())
        hint = jwt.decode(params["id_token_hint"][0], keys)
        assert hint.claims["sub"] == "tom"
        assert hint.claims["aud"] in (
            "alliance-test",
            ["alliance-test"],
        )
        assert (await client.get("/api/auth/me")).status_code == 401
        async with app.state.services.database.session() as db:
            assert await repo.user_cohort_ids(db, user_id=me["user"]["id"])  # user kept
        # The provider shows its sign-out page, then returns the browser home.
        ended = await client.get(target)
        assert ended.status_code == 200
        confirm = await client.post(
            provider + "/oauth2/end_session/confirm", data={"redirect_uri": f"{APP}/"}
        )
        assert confirm.status_code == 302
        assert confirm.headers["location"] == f"{APP}/"


async def _csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/practice")
    assert page.status_code == 200
    marker = '<meta name="csrf-token" content="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]
