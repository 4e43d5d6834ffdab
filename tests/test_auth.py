"""Sign-in backends other than OpenID Connect (see test_oidc.py): dev, trusted proxy; sessions,
expiry and CSRF; role and cohort mapping from claims."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from app.auth.identity import AccessDenied, as_values, claim_at, cohorts_for, from_claims
from app.main import create_app
from app.settings import Settings
from app.storage import repo
from app.storage.tables import WebSession

PROXY = "10.20.0.5"


@asynccontextmanager
async def running(settings: Settings, **overrides: Any) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update=overrides))
    async with app.router.lifespan_context(app):
        yield app


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://practice.example.edu")


# -- dev ----------------------------------------------------------------------------------------


async def test_dev_sign_in_chooses_role_and_cohort(settings: Settings) -> None:
    async with running(settings) as app, client_from(app, "127.0.0.1") as client:
        signed = await client.post(
            "/api/auth/dev", json={"name": "Tess", "role": "tutor", "cohort": "Tuesday group"}
        )
        assert signed.status_code == 200, signed.text
        me = (await client.get("/api/auth/me")).json()
        assert me["user"]["role"] == "tutor"
        assert len(me["cohort_ids"]) == 1
        # Signing in again as a trainee changes the role: the sign-in is the source of truth.
        await client.post("/api/auth/dev", json={"name": "Tess", "role": "trainee"})
        assert (await client.get("/api/auth/me")).json()["user"]["role"] == "trainee"
        bad = await client.post("/api/auth/dev", json={"name": "Tess", "role": "root"})
        assert bad.status_code == 422
        assert "role" in bad.json()["detail"]


async def test_dev_sign_in_refused_from_another_computer(settings: Settings) -> None:
    async with running(settings) as app, client_from(app, "192.0.2.7") as client:
        refused = await client.post("/api/auth/dev", json={"name": "Mallory", "role": "admin"})
        assert refused.status_code == 403
        assert "only works from this computer" in refused.json()["detail"]
    async with (
        running(settings, allow_dev_auth_remote=True) as app,
        client_from(app, "192.0.2.7") as client,
    ):
        assert (await client.post("/api/auth/dev", json={"name": "Tess"})).status_code == 200


async def test_dev_sign_in_refused_when_another_backend_is_configured(
    settings: Settings,
) -> None:
    async with (
        running(settings, auth_backend="proxy") as app,
        client_from(app, "127.0.0.1") as client,
    ):
        refused = await client.post("/api/auth/dev", json={"name": "Tess", "role": "admin"})
        assert refused.status_code == 403
        assert "switched off" in refused.json()["detail"]


# -- sessions, expiry, CSRF ----------------------------------------------------------------------


async def test_expired_session_is_signed_out(settings: Settings) -> None:
    async with running(settings) as app, client_from(app, "127.0.0.1") as client:
        await client.post("/api/auth/dev", json={"name": "Tess"})
        assert (await client.get("/api/auth/me")).status_code == 200
        async with app.state.services.database.session() as db:
            for row in (await db.scalars(repo.select(WebSession))).all():
                row.expires_at = repo.utcnow() - timedelta(seconds=1)
            await db.commit()
        assert (await client.get("/api/auth/me")).status_code == 401
        async with app.state.services.database.session() as db:
            assert (await db.scalars(repo.select(WebSession))).all() == []


async def test_cookie_flags_and_csrf_on_logout(settings: Settings) -> None:
    async with (
        running(settings, session_cookie_secure=True) as app,
        client_from(app, "127.0.0.1") as client,
    ):
        signed = await client.post("/api/auth/dev", json={"name": "Tess"})
        cookie = signed.headers["set-cookie"].lower()
        for flag in ("httponly", "secure", "samesite=lax", "path=/"):
            assert flag in cookie
        assert (await client.post("/api/auth/logout")).status_code == 403
        wrong = await client.post("/api/auth/logout", headers={"X-CSRF-Token": "guess"})
        assert wrong.status_code == 403
        assert (await client.get("/api/auth/me")).status_code == 200
        out = await client.post(
            "/api/auth/logout", headers={"X-CSRF-Token": signed.json()["csrf_token"]}
        )
        assert out.json() == {"redirect": None}
        assert (await client.get("/api/auth/me")).status_code == 401


# -- trusted proxy -------------------------------------------------------------------------------


def proxy_settings(settings: Settings, **more: Any) -> dict[str, Any]:
    return {
        "auth_backend": "proxy",
        "proxy_trusted_addresses": [f"{PROXY}/32", "10.30.0.0/24"],
        "proxy_user_header": "Remote-User",
        "proxy_name_header": "Remote-Name",
        "proxy_groups_header": "Remote-Groups",
        "proxy_logout_url": "https://auth.example.edu/logout",
        **more,
    }


async def test_proxy_headers_from_the_proxy_sign_in(settings: Settings) -> None:
    headers = {"Remote-User": "jdoe", "Remote-Name": "Jo Doe", "Remote-Groups": "tutor,y2026"}
    async with (
        running(settings, **proxy_settings(settings)) as app,
        client_from(app, "10.30.0.17") as client,
    ):
        done = await client.get("/auth/login", headers=headers)
        assert done.status_code == 303
        assert done.headers["location"] == "/practice"
        me = (await client.get("/api/auth/me", headers=headers)).json()
        assert me["user"] == {"id": me["user"]["id"], "display_name": "Jo Doe", "role": "tutor"}
        async with app.state.services.database.session() as db:
            cohort = await db.get(repo.Cohort, me["cohort_ids"][0])
        assert cohort is not None
        assert cohort.name == "y2026"  # the role value is not a cohort
        # The proxy now names someone else: this browser's session is not theirs.
        other = {**headers, "Remote-User": "someone-else"}
        assert (await client.get("/api/auth/me", headers=other)).status_code == 401
        csrf = (await client.get("/api/auth/me", headers=headers)).status_code
        assert csrf == 200


async def test_spoofed_proxy_headers_are_refused(settings: Settings) -> None:
    headers = {"Remote-User": "admin-person", "Remote-Groups": "admin"}
    async with (
        running(settings, **proxy_settings(settings)) as app,
        client_from(app, "203.0.113.9") as client,
    ):
        refused = await client.get("/auth/login", headers=headers)
        assert refused.status_code == 403
        assert "sign-in proxy, so they were refused" in refused.text
        assert "alliance_session" not in client.cookies
        assert (await client.get("/api/auth/me", headers=headers)).status_code == 401
        async with app.state.services.database.session() as db:
            assert (await db.scalars(repo.select(repo.User))).all() == []


async def test_proxy_without_user_header_is_refused_with_a_page(settings: Settings) -> None:
    async with (
        running(settings, **proxy_settings(settings)) as app,
        client_from(app, PROXY) as client,
    ):
        refused = await client.get("/auth/login")
        assert refused.status_code == 403
        assert "Remote-User header is missing" in refused.text


async def test_proxy_logout_sends_the_browser_to_the_proxy(settings: Settings) -> None:
    headers = {"Remote-User": "jdoe"}
    async with (
        running(settings, **proxy_settings(settings)) as app,
        client_from(app, PROXY) as client,
    ):
        await client.get("/auth/login", headers=headers)
        page = await client.get("/practice", headers=headers)
        marker = '<meta name="csrf-token" content="'
        start = page.text.index(marker) + len(marker)
        csrf = page.text[start : page.text.index('"', start)]
        out = await client.post("/api/auth/logout", headers={**headers, "X-CSRF-Token": csrf})
        assert out.json() == {"redirect": "https://auth.example.edu/logout"}


# -- mapping -------------------------------------------------------------------------------------


def test_claim_paths() -> None:
    claims = {
        "realm_access": {"roles": ["tutor"]},
        "https://example.edu/roles": ["admin"],
        "groups": "a; b ,c",
    }
    assert claim_at(claims, "realm_access.roles") == ["tutor"]
    assert claim_at(claims, "https://example.edu/roles") == ["admin"]
    assert claim_at(claims, "realm_access.missing") is None
    assert claim_at(claims, "groups.x") is None
    assert as_values(claims["groups"]) == ["a", "b", "c"]
    assert as_values(None) == []


def test_role_and_cohort_mapping(settings: Settings) -> None:
    s = settings.model_copy(update={"cohort_prefix": "cohort-", "oidc_cohort_claim": "groups"})
    identity = from_claims(
        {"sub": "u1", "roles": ["Tutor"], "groups": ["cohort-a", "staff", "cohort-b"]},
        s,
        id_token="t",
    )
    assert identity.role == "tutor"  # values compare without case
    assert identity.cohorts == ("a", "b")
    assert identity.display_name == "u1"
    admin = from_claims({"sub": "u2", "roles": ["tutor", "admin"]}, s, id_token="t")
    assert admin.role == "admin"
    assert cohorts_for(["tutor", "x"], settings) == ("x",)
    with pytest.raises(AccessDenied, match="'sub' claim"):
        from_claims({"roles": ["tutor"]}, s, id_token="t")
    with pytest.raises(AccessDenied, match="'roles' claim"):
        from_claims({"sub": "u3"}, s, id_token="t")
    open_door = s.model_copy(update={"oidc_role_claim": ""})
    assert from_claims({"sub": "u3"}, open_door, id_token="t").role == "trainee"


def test_backend_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="ALLIANCE_OIDC_ISSUER"):
        Settings(_env_file=None, auth_backend="oidc")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="not an address or network"):
        Settings(_env_file=None, proxy_trusted_addresses=["proxy.local"])  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="needs ALLIANCE_PROXY_TRUSTED_ADDRESSES"):
        Settings(_env_file=None, auth_backend="proxy", proxy_trusted_addresses=[])  # type: ignore[call-arg]


# -- schema --------------------------------------------------------------------------------------


async def test_migrations_upgrade_downgrade_and_upgrade_again(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from app.storage.db import alembic_config, open_database

    database = open_database(database_url)
    try:
        await database.upgrade()

        def tables(connection: Any) -> dict[str, set[str]]:
            inspector = inspect(connection)
            return {
                name: {c["name"] for c in inspector.get_columns(name)}
                for name in inspector.get_table_names()
            }

        async with database.engine.connect() as connection:
            found = await connection.run_sync(tables)
        for name in ("cohorts", "cohort_members", "tutor_comments", "rating_overrides"):
            assert name in found
        assert "audit_log" in found
        assert "id_token" in found["web_sessions"]
        async with database.engine.begin() as connection:
            await connection.run_sync(lambda c: command.downgrade(alembic_config(c), "0001"))
        async with database.engine.connect() as connection:
            found = await connection.run_sync(tables)
        assert "cohorts" not in found
        assert "id_token" not in found["web_sessions"]
        await database.upgrade()
        async with database.engine.connect() as connection:
            assert "audit_log" in await connection.run_sync(tables)
    finally:
        await database.close()
