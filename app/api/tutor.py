"""Tutor review: cohort dashboard, transcripts with critiques and client states, comments per
turn, overrides of the AI's ratings, and how often tutors and the AI judge agree.

Tutors see the trainees of their own cohorts; admins see everyone. The trainee of a session may
read its review (comments and overrides are shown to them) but not the client's hidden state.
Every read of someone else's transcript is written to the audit log (see `app.deps`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.pages import _context as page_context
from app.api.pages import templates
from app.auth.principal import Principal, ensure_can_read
from app.deps import CurrentUser, CurrentWriter, OptionalPrincipal, ServicesDep
from app.errors import Forbidden, InvalidInput, NotFound
from app.evaluator.agreement import compare
from app.evaluator.schema import DIMENSIONS
from app.history import mean_scores
from app.storage import repo, review
from app.storage.tables import PracticeSession

router = APIRouter(prefix="/api/review", tags=["review"])
admin_router = APIRouter(prefix="/api/admin", tags=["admin"])
pages_router = APIRouter(include_in_schema=False)
LEVELS = (0, 1, 2, 3)


class CohortOut(BaseModel):
    id: str
    name: str
    trainees: int


class SessionRow(BaseModel):
    id: str
    trainee_id: str
    trainee_name: str
    persona_id: str
    persona_version: int
    status: str
    created_at: datetime
    critiqued_turns: int
    # Mean AI score per dimension over the session's critiqued turns (null: never scored).
    scores: dict[str, float | None]


class CommentOut(BaseModel):
    id: str
    author: str
    text: str
    created_at: datetime


class OverrideOut(BaseModel):
    dimension: str
    score: int | None
    ai_score: int | None
    note: str
    tutor: str
    updated_at: datetime


class ReviewTurn(BaseModel):
    id: str
    parent_id: str | None
    trainee_text: str
    reply: str | None
    reply_status: str
    created_at: datetime
    critique: dict[str, Any] | None
    # The client state that produced this reply; null for the trainee (it holds hidden material).
    client_state: dict[str, Any] | None
    comments: list[CommentOut]
    overrides: list[OverrideOut]


class ReviewOut(BaseModel):
    id: str
    trainee_id: str
    persona_id: str
    persona_version: int
    status: str
    created_at: datetime
    can_review: bool
    turns: list[ReviewTurn]


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class OverrideIn(BaseModel):
    score: int | None = Field(ge=0, le=3, description="0-3, or null for not applicable")
    note: str = Field(default="", max_length=2000)


class DimensionAgreement(BaseModel):
    dimension: str
    turns: int
    both_scored: int
    exact_agreement: float | None
    weighted_kappa: float | None
    spearman: float | None


def _reviewer(principal: Principal) -> Principal:
    if not principal.reviews:
        raise Forbidden("Only tutors and administrators can review sessions.")
    return principal


async def _scope(db: AsyncSession, principal: Principal, cohort_id: str | None) -> list[str] | None:
    """The trainee ids this principal reviews (None: everyone), narrowed to one cohort."""
    user_ids: list[str] | None = None
    if principal.role == "tutor":
        if cohort_id is not None and cohort_id not in principal.cohort_ids:
            raise NotFound("That cohort does not exist, or it is not yours.")
        user_ids = sorted(principal.reviewable_user_ids)
    if cohort_id is not None:
        members = set(await repo.trainees_in_cohorts(db, cohort_ids=[cohort_id]))
        user_ids = sorted(members if user_ids is None else members & set(user_ids))
    return user_ids


@router.get("/cohorts", response_model=list[CohortOut])
async def list_cohorts(services: ServicesDep, principal: CurrentUser) -> list[CohortOut]:
    _reviewer(principal)
    ids = sorted(principal.cohort_ids) if principal.role == "tutor" else None
    async with services.database.session() as db:
        rows = await review.cohorts(db, ids=ids)
    return [CohortOut(id=c.id, name=c.name, trainees=n) for c, n in rows]


@router.get("/sessions", response_model=list[SessionRow])
async def list_review_sessions(
    services: ServicesDep, principal: CurrentUser, cohort_id: str | None = None
) -> list[SessionRow]:
    _reviewer(principal)
    async with services.database.session() as db:
        user_ids = await _scope(db, principal, cohort_id)
        rows = await review.sessions_of_users(db, user_ids=user_ids)
        critiques = await review.critiques_of_sessions(db, session_ids=[s.id for s, _ in rows])
    return [
        SessionRow(
            id=s.id,
            trainee_id=u.id,
            trainee_name=u.display_name,
            persona_id=s.persona_id,
            persona_version=s.persona_version,
            status=s.status,
            created_at=repo.aware(s.created_at),
            critiqued_turns=len(critiques.get(s.id, [])),
            scores=mean_scores(critiques.get(s.id, [])),
        )
        for s, u in rows
    ]


@router.get("/sessions/{session_id}", response_model=ReviewOut)
async def review_session(
    session_id: str, services: ServicesDep, principal: CurrentUser
) -> ReviewOut:
    async with services.database.session() as db:
        session = ensure_can_read(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )
        turns = await repo.list_turns(db, session_id=session.id)
        critiques = await repo.critiques_for(db, turn_ids=[t.id for t in turns])
        comments = await review.comments_for(db, session_id=session.id)
        overrides = await review.overrides_for(db, session_id=session.id)
    reviews = principal.reviews and session.user_id != principal.user_id
    return ReviewOut(
        id=session.id,
        trainee_id=session.user_id,
        persona_id=session.persona_id,
        persona_version=session.persona_version,
        status=session.status,
        created_at=repo.aware(session.created_at),
        can_review=reviews,
        turns=[
            ReviewTurn(
                id=t.id,
                parent_id=t.parent_id,
                trainee_text=t.trainee_text,
                reply=t.reply_text,
                reply_status=t.reply_status,
                created_at=repo.aware(t.created_at),
                critique=critiques[t.id].payload if t.id in critiques else None,
                client_state=t.client_state if reviews else None,
                comments=[
                    CommentOut(
                        id=c.id, author=name, text=c.text, created_at=repo.aware(c.created_at)
                    )
                    for c, name in comments
                    if c.turn_id == t.id
                ],
                overrides=[
                    OverrideOut(
                        dimension=o.dimension,
                        score=o.score,
                        ai_score=o.ai_score,
                        note=o.note,
                        tutor=name,
                        updated_at=repo.aware(o.updated_at),
                    )
                    for o, name in overrides
                    if o.turn_id == t.id
                ],
            )
            for t in turns
        ],
    )


async def _reviewable_turn(
    services: ServicesDep, principal: Principal, session_id: str, turn_id: str
) -> tuple[PracticeSession, dict[str, Any] | None]:
    """The session and the turn's critique, if this reviewer may annotate it."""
    async with services.database.session() as db:
        found = await repo.get_practice_session(db, session_id=session_id)
        if found is not None and found.user_id == principal.user_id:
            found = None  # nobody reviews their own practice
        session = ensure_can_read(principal, found)
        turn = await repo.get_turn(db, turn_id=turn_id)
        if turn is None or turn.session_id != session.id:
            raise NotFound("That turn does not exist in this session.")
        critique = (await repo.critiques_for(db, turn_ids=[turn.id])).get(turn.id)
    return session, critique.payload if critique else None


@router.post("/sessions/{session_id}/turns/{turn_id}/comments", status_code=201)
async def add_comment(
    session_id: str,
    turn_id: str,
    body: CommentIn,
    services: ServicesDep,
    principal: CurrentWriter,
) -> CommentOut:
    if not principal.reviews:
        raise NotFound("That session does not exist, or it is not yours.")
    text = body.text.strip()
    if not text:
        raise InvalidInput("text: write the comment before saving it.")
    session, _ = await _reviewable_turn(services, principal, session_id, turn_id)
    async with services.database.session() as db:
        row = await review.add_comment(
            db, session_id=session.id, turn_id=turn_id, author_id=principal.user_id, text=text
        )
    return CommentOut(
        id=row.id, author=principal.display_name, text=row.text, created_at=row.created_at
    )


@router.put("/sessions/{session_id}/turns/{turn_id}/ratings/{dimension}")
async def override_rating(
    session_id: str,
    turn_id: str,
    dimension: str,
    body: OverrideIn,
    services: ServicesDep,
    principal: CurrentWriter,
) -> OverrideOut:
    if not principal.reviews:
        raise NotFound("That session does not exist, or it is not yours.")
    if dimension not in DIMENSIONS:
        raise InvalidInput(f"dimension: use one of {', '.join(DIMENSIONS)}.")
    session, critique = await _reviewable_turn(services, principal, session_id, turn_id)
    ai = critique.get(dimension) if critique else None
    ai_score = ai.get("score") if isinstance(ai, dict) else None
    async with services.database.session() as db:
        row = await review.set_override(
            db,
            session_id=session.id,
            turn_id=turn_id,
            dimension=dimension,
            score=body.score,
            ai_score=ai_score,
            note=body.note.strip(),
            tutor_id=principal.user_id,
        )
    return OverrideOut(
        dimension=row.dimension,
        score=row.score,
        ai_score=row.ai_score,
        note=row.note,
        tutor=principal.display_name,
        updated_at=repo.aware(row.updated_at),
    )


@router.get("/agreement", response_model=list[DimensionAgreement])
async def agreement(
    services: ServicesDep, principal: CurrentUser, cohort_id: str | None = None
) -> list[DimensionAgreement]:
    """Tutor overrides against the AI's scores, per dimension (weighted kappa, Spearman)."""
    _reviewer(principal)
    async with services.database.session() as db:
        user_ids = await _scope(db, principal, cohort_id)
        rows = await review.overrides_of_users(db, user_ids=user_ids)
    out = []
    for dim in DIMENSIONS:
        pairs = [(o.ai_score, o.score) for o in rows if o.dimension == dim]
        result = compare([a for a, _ in pairs], [t for _, t in pairs], LEVELS)
        out.append(
            DimensionAgreement(
                dimension=dim,
                turns=result.turns,
                both_scored=result.both_scored,
                exact_agreement=result.exact_agreement,
                weighted_kappa=result.weighted_kappa,
                spearman=result.spearman,
            )
        )
    return out


class AuditOut(BaseModel):
    at: datetime
    reader_id: str
    reader: str
    reader_role: str
    owner_id: str
    owner: str
    session_id: str
    action: str


@admin_router.get("/audit", response_model=list[AuditOut])
async def audit_log(services: ServicesDep, principal: CurrentUser) -> list[AuditOut]:
    if principal.role != "admin":
        raise Forbidden("Only administrators can read the audit log.")
    async with services.database.session() as db:
        rows = await review.audit_entries(db)
    return [
        AuditOut(
            at=repo.aware(e.created_at),
            reader_id=e.actor_id,
            reader=reader,
            reader_role=e.actor_role,
            owner_id=e.owner_id,
            owner=owner,
            session_id=e.session_id,
            action=e.action,
        )
        for e, reader, owner in rows
    ]


@pages_router.get("/tutor", response_class=HTMLResponse)
async def dashboard_page(
    request: Request, services: ServicesDep, principal: OptionalPrincipal
) -> Response:
    if principal is None:
        return RedirectResponse("/", status_code=303)
    _reviewer(principal)
    return templates.TemplateResponse(
        request, "tutor_dashboard.html", page_context(services, principal)
    )


@pages_router.get("/tutor/sessions/{session_id}", response_class=HTMLResponse)
async def session_review_page(
    session_id: str, request: Request, services: ServicesDep, principal: OptionalPrincipal
) -> Response:
    if principal is None:
        return RedirectResponse("/", status_code=303)
    async with services.database.session() as db:
        session = ensure_can_read(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )
    return templates.TemplateResponse(
        request,
        "tutor_session.html",
        page_context(services, principal, session_id=session.id),
    )
