"""Server-side browser sessions: a random token in an HttpOnly cookie, its hash in the database.

Every state-changing request must carry the session's CSRF token in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import Request, Response

from app.auth.principal import Principal, Role
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
    subject: str,
    display_name: str,
    role: Role,
) -> Principal:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    async with database.session() as db:
        user = await repo.upsert_user(db, subject=subject, display_name=display_name, role=role)
        await repo.create_web_session(
            db,
            user_id=user.id,
            token=token,
            csrf_token=csrf,
            max_age=timedelta(hours=settings.session_max_age_hours),
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
        user_id=user.id, display_name=user.display_name, role=_role(user.role), csrf_token=csrf
    )


async def current_principal(request: Request, database: Database) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    async with database.session() as db:
        found = await repo.web_session_user(db, token=token)
    if found is None:
        return None
    row, user = found
    return Principal(
        user_id=user.id,
        display_name=user.display_name,
        role=_role(user.role),
        csrf_token=row.csrf_token,
    )


async def sign_out(request: Request, response: Response, database: Database) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        async with database.session() as db:
            await repo.delete_web_session(db, token=token)
    response.delete_cookie(COOKIE, path="/")


def csrf_ok(request: Request, principal: Principal) -> bool:
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(sent) and secrets.compare_digest(sent, principal.csrf_token)


def _role(value: str) -> Role:
    if value in ("trainee", "tutor", "admin"):
        return value  # type: ignore[return-value]
    return "trainee"
