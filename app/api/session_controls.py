"""What the practice room needs beyond sending turns: the whole conversation tree (for "try it
differently" branches), pause, resume and end, a hint for the current moment, and the list of
past sessions. Every read is checked with `ensure_can_read`, every change with the CSRF writer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api.sessions import TurnErrorOut, TurnOut, settle_abandoned
from app.auth.principal import Principal, ensure_can_read, ensure_can_write
from app.deps import CurrentUser, CurrentWriter, ServicesDep
from app.errors import Conflict, NotFound
from app.evaluator.hints import hint_for
from app.history import sessions_of
from app.reports.model import DIMENSION_LABELS
from app.services import Services
from app.storage import repo
from app.storage.tables import CritiqueRecord, PracticeSession, Turn, utcnow

router = APIRouter(prefix="/api", tags=["practice"])

Status = Literal["active", "paused", "ended"]


class TreeOut(BaseModel):
    session_id: str
    status: str
    latest_id: str | None
    turns: list[TurnOut]


class StatusOut(BaseModel):
    id: str
    status: str
    ended_at: datetime | None


class HintOut(BaseModel):
    hint: str
    marker: str


class SummaryOut(BaseModel):
    id: str
    persona_id: str
    persona_name: str
    status: str
    created_at: datetime
    turns: int
    minutes: float
    planned_minutes: int
    dimension_means: dict[str, float | None]
    overall: float | None


def turn_out(turn: Turn, critique: CritiqueRecord | None) -> TurnOut:
    failed = turn.reply_status == "failed"
    return TurnOut(
        id=turn.id,
        parent_id=turn.parent_id,
        trainee_text=turn.trainee_text,
        created_at=repo.aware(turn.created_at),
        reply=turn.reply_text,
        reply_status=turn.reply_status,
        minutes_elapsed=turn.minutes_elapsed,
        error=(
            TurnErrorOut(message=turn.error_message or "", retryable=bool(turn.error_retryable))
            if failed
            else None
        ),
        critique=critique.payload if critique is not None else None,
    )


async def _readable(services: Services, principal: Principal, session_id: str) -> PracticeSession:
    async with services.database.session() as db:
        return ensure_can_read(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )


@router.get("/sessions", response_model=list[SummaryOut])
async def list_sessions(services: ServicesDep, principal: CurrentUser) -> list[SummaryOut]:
    """The signed-in trainee's own sessions, oldest first, with headline figures."""
    async with services.database.session() as db:
        summaries = await sessions_of(db, user_id=principal.user_id)
    return [
        SummaryOut(
            id=s.id,
            persona_id=s.persona_id,
            persona_name=(p.name if (p := services.personas.get(s.persona_id)) else s.persona_id),
            status=s.status,
            created_at=s.created_at,
            turns=s.turns,
            minutes=s.minutes,
            planned_minutes=s.planned_minutes,
            dimension_means={k: s.dimension_means.get(k) for k in DIMENSION_LABELS},
            overall=s.overall,
        )
        for s in summaries
    ]


@router.get("/sessions/{session_id}/turns", response_model=TreeOut)
async def session_tree(session_id: str, services: ServicesDep, principal: CurrentUser) -> TreeOut:
    """Every turn of the session, branches included, oldest first; `latest_id` ends the path
    the report follows."""
    async with services.database.session() as db:
        session = ensure_can_read(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )
        turns = await repo.list_turns(db, session_id=session.id)
        critiques = await repo.critiques_for(db, turn_ids=[t.id for t in turns])
    turns = await settle_abandoned(services, turns)
    return TreeOut(
        session_id=session.id,
        status=session.status,
        latest_id=turns[-1].id if turns else None,
        turns=[turn_out(t, critiques.get(t.id)) for t in turns],
    )


async def _set_status(
    services: Services, principal: Principal, session_id: str, allowed: dict[str, Status]
) -> StatusOut:
    """Move the session along `allowed` (from-status → to-status); a repeat is answered as is."""
    async with services.database.session() as db:
        session = ensure_can_write(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )
        if session.status not in allowed and session.status not in allowed.values():
            raise Conflict(f"This session is {session.status}; that cannot be done now.")
        target = allowed.get(session.status)
        if target is not None:
            session.status = target
            if target == "ended":
                session.ended_at = utcnow()
            await db.commit()
        ended = repo.aware(session.ended_at) if session.ended_at else None
        return StatusOut(id=session.id, status=session.status, ended_at=ended)


@router.post("/sessions/{session_id}/pause", response_model=StatusOut)
async def pause_session(
    session_id: str, services: ServicesDep, principal: CurrentWriter
) -> StatusOut:
    """Pausing stops the session: no turn is accepted and the clock stands until it resumes."""
    return await _set_status(services, principal, session_id, {"active": "paused"})


@router.post("/sessions/{session_id}/resume", response_model=StatusOut)
async def resume_session(
    session_id: str, services: ServicesDep, principal: CurrentWriter
) -> StatusOut:
    return await _set_status(services, principal, session_id, {"paused": "active"})


@router.post("/sessions/{session_id}/end", response_model=StatusOut)
async def end_session(
    session_id: str, services: ServicesDep, principal: CurrentWriter
) -> StatusOut:
    """Ending is final: the transcript stays readable and the report can be written."""
    return await _set_status(
        services, principal, session_id, {"active": "ended", "paused": "ended"}
    )


@router.get("/sessions/{session_id}/hint", response_model=HintOut)
async def session_hint(
    session_id: str,
    services: ServicesDep,
    principal: CurrentUser,
    after: str | None = Query(default=None, max_length=32, description="The last turn shown"),
) -> HintOut:
    """A hint for the moment after turn `after` (or after the opening line when omitted)."""
    session = await _readable(services, principal, session_id)
    persona = services.engine.persona(session.persona_id)
    client_line, minutes = session.opening, 0.0
    if after:
        async with services.database.session() as db:
            turn = await repo.get_turn(db, turn_id=after)
        if turn is None or turn.session_id != session.id:
            raise NotFound("That turn does not exist in this session.")
        if turn.reply_status != "complete" or turn.reply_text is None:
            raise Conflict("Wait for the client's reply, then ask for a hint.")
        client_line, minutes = turn.reply_text, turn.minutes_elapsed
    hint = hint_for(
        client_line,
        style=persona.style,
        trainee_has_spoken=bool(after),
        minutes_elapsed=minutes,
        planned_minutes=session.planned_minutes,
    )
    return HintOut(hint=hint.text, marker=hint.marker)
