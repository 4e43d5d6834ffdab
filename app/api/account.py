"""A person's own data: export everything as JSON, or delete it all.

Export holds the person's sessions (turns, replies, critiques) and what tutors wrote about them.
Deletion removes the person, their sessions and their sign-in sessions; the audit log keeps only
ids of reads that happened before.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel

from app.api.pages import _context as page_context
from app.api.pages import templates
from app.auth.web_sessions import sign_out
from app.deps import CurrentUser, CurrentWriter, OptionalPrincipal, ServicesDep
from app.errors import InvalidInput
from app.storage import repo, review

router = APIRouter(prefix="/api/me", tags=["account"])
pages_router = APIRouter(include_in_schema=False)


class DeleteIn(BaseModel):
    confirm: bool = False


@router.get("/export")
async def export_my_data(services: ServicesDep, principal: CurrentUser) -> Response:
    async with services.database.session() as db:
        rows = await review.sessions_of_users(db, user_ids=[principal.user_id])
        sessions: list[dict[str, Any]] = []
        for session, _user in rows:
            turns = await repo.list_turns(db, session_id=session.id)
            critiques = await repo.critiques_for(db, turn_ids=[t.id for t in turns])
            comments = await review.comments_for(db, session_id=session.id)
            overrides = await review.overrides_for(db, session_id=session.id)
            sessions.append(
                {
                    "id": session.id,
                    "persona_id": session.persona_id,
                    "persona_version": session.persona_version,
                    "status": session.status,
                    "created_at": _iso(session.created_at),
                    "turns": [
                        {
                            "id": t.id,
                            "parent_id": t.parent_id,
                            "created_at": _iso(t.created_at),
                            "trainee_text": t.trainee_text,
                            "reply": t.reply_text,
                            "critique": critiques[t.id].payload if t.id in critiques else None,
                            "tutor_comments": [
                                {"author": n, "text": c.text, "created_at": _iso(c.created_at)}
                                for c, n in comments
                                if c.turn_id == t.id
                            ],
                            "tutor_ratings": [
                                {
                                    "dimension": o.dimension,
                                    "score": o.score,
                                    "ai_score": o.ai_score,
                                    "note": o.note,
                                    "tutor": n,
                                }
                                for o, n in overrides
                                if o.turn_id == t.id
                            ],
                        }
                        for t in turns
                    ],
                }
            )
    body = {
        "format": "alliance.personal-export",
        "version": 1,
        "user": {
            "id": principal.user_id,
            "display_name": principal.display_name,
            "role": principal.role,
        },
        "sessions": sessions,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="alliance-my-data.json"'},
    )


@router.delete("", status_code=204)
async def delete_my_data(
    body: DeleteIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    principal: CurrentWriter,
) -> Response:
    if not body.confirm:
        raise InvalidInput("confirm: send true to delete your account and all your sessions.")
    async with services.database.session() as db:
        await review.delete_user(db, user_id=principal.user_id)
    await sign_out(request, response, services.database)
    response.status_code = 204
    return response


def _iso(value: datetime) -> str:
    return repo.aware(value).isoformat()


@pages_router.get("/account", response_class=HTMLResponse)
async def account_page(
    request: Request, services: ServicesDep, principal: OptionalPrincipal
) -> Response:
    if principal is None:
        return RedirectResponse("/", status_code=303)
    return templates.TemplateResponse(request, "account.html", page_context(services, principal))
