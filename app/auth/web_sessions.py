"""Server-side browser sessions: a random token in an HttpOnly cookie, its hash in the database.

Every state-changing request must carry the session's CSRF token in the `X-CSRF-Token` header.
A session ends at its expiry (`session_max_age_hours`), at sign-out, or — behind a trusted
proxy — as soon as the proxy says a different person is using the browser.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import Request, Response

from app.auth.identity import Identity
from app.auth.principal import Principal, as_role
from app.settings import Settings
from app.storage import repo
from app.storage.db import Database

COOKIE = "alliance_session"
CSRF_HEADER = "X-CSRF-Token"


async def sign_in(
    *,
    database: Database,
    settings: Settings,
    response: Response,
    identity: Identity,
    sync_cohorts: bool,
) -> Principal:
    """Record the user (role and, when the sign-in names them, cohorts) and open a session."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    async with database.session() as db:
        user = await repo.upsert_user(
            db, subject=identity.subject, display_name=identity.display_name, role=identity.role
        )
        if sync_cohorts:
            await repo.set_user_cohorts(db, user_id=user.id, names=list(identity.cohorts))
        await repo.create_web_session(
            db,
            user_id=user.id,
            token=token,
            csrf_token=csrf,
            max_age=timedelta(hours=settings.session_max_age_hours),
            id_token=identity.id_token,
        )
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.session_max_age_hours * 3600),
        httponly=True,
        secure=settings.session_cookie_secure,
        samesite="lax",
        path="/",
    )
    return Principal(
        user_id=user.id, display_name=user.display_name, role=as_role(user.role), csrf_token=csrf
    )


async def current_principal(
    request: Request, database: Database, settings: Settings | None = None
) -> Principal | None:
    """The signed-in person, read afresh on every request (a sign-out or an expiry holds at
    once): one query for a trainee, a second for a tutor's reviewable trainees."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    async with database.engine.connect() as db:
        found = await repo.signed_in(db, token=token)
        if found is None:
            return None
        if settings is not None and _proxy_user_changed(request, settings, found.subject):
            return None
        role = as_role(found.role)
        reviewable = (
            await repo.trainees_in_cohorts(db, cohort_ids=list(found.cohort_ids))
            if role == "tutor"
            else []
        )
    return Principal(
        user_id=found.user_id,
        display_name=found.display_name,
        role=role,
        csrf_token=found.csrf_token,
        cohort_ids=frozenset(found.cohort_ids),
        reviewable_user_ids=frozenset(reviewable),
    )


def _proxy_user_changed(request: Request, settings: Settings, subject: str) -> bool:
    """Behind a trusted proxy, a request naming someone else is not this session's."""
    if settings.auth_backend != "proxy":
        return False
    from app.auth.proxy import header_subject

    named = header_subject(request, settings)
    return named is not None and named != subject


async def sign_out(request: Request, response: Response, database: Database) -> str | None:
    """End the session; returns the provider's ID token, if it had one, for RP logout."""
    token = request.cookies.get(COOKIE)
    id_token = None
    if token:
        async with database.session() as db:
            row = await repo.delete_web_session(db, token=token)
        id_token = row.id_token if row is not None else None
    response.delete_cookie(COOKIE, path="/")
    return id_token


def csrf_ok(request: Request, principal: Principal) -> bool:
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(sent) and secrets.compare_digest(sent, principal.csrf_token)
