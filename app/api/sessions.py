"""Practice routes: personas, sessions, and turns (answered as server-sent events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse

from app.api.sse import event_stream
from app.auth.principal import Principal, ensure_can_read, ensure_can_write
from app.authoring import library_of
from app.deps import CurrentUser, CurrentWriter, ServicesDep
from app.dialogue import remote
from app.dialogue.engine import path_to
from app.errors import NotFound
from app.personas import Persona
from app.services import Services
from app.storage import repo
from app.storage.tables import PracticeSession, Turn

router = APIRouter(prefix="/api", tags=["practice"])


class PersonaCard(BaseModel):
    id: str
    version: int
    name: str
    age: int
    pronouns: str
    occupation: str
    summary: str
    style: str
    difficulty: str
    content_warnings: list[str]
    learning_objectives: list[str]

    @classmethod
    def of(cls, persona: Persona) -> PersonaCard:
        return cls(
            id=persona.id,
            version=persona.version,
            name=persona.name,
            age=persona.identity.age,
            pronouns=persona.identity.pronouns,
            occupation=persona.identity.occupation,
            summary=persona.summary,
            style=persona.style,
            difficulty=persona.difficulty,
            content_warnings=list(persona.content_warnings),
            learning_objectives=list(persona.learning_objectives),
        )


class StartSession(BaseModel):
    persona_id: str = Field(min_length=1, max_length=64)


class TurnIn(BaseModel):
    text: str = Field(min_length=1, max_length=20000)
    idempotency_key: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    parent_id: str | None = Field(default=None, max_length=32)


class TurnErrorOut(BaseModel):
    message: str
    retryable: bool


class TurnOut(BaseModel):
    id: str
    parent_id: str | None
    trainee_text: str
    created_at: datetime
    reply: str | None
    reply_status: Literal["pending", "streaming", "complete", "failed"]
    minutes_elapsed: float
    error: TurnErrorOut | None
    critique: dict[str, Any] | None


class SessionOut(BaseModel):
    id: str
    persona: PersonaCard
    persona_version: int
    planned_minutes: int
    opening: str
    status: str
    created_at: datetime
    offline: bool
    client_label: str
    evaluator_label: str
    turns: list[TurnOut]


@router.get("/personas", response_model=list[PersonaCard])
async def list_personas(request: Request, principal: CurrentUser) -> list[PersonaCard]:
    # Built-in personas, and authored ones published to the person's cohorts.
    return [PersonaCard.of(p) for p in library_of(request).visible(principal)]


def _session_out(services: Any, session: PracticeSession, turns: list[TurnOut]) -> SessionOut:
    persona = services.engine.persona(session.persona_id)
    return SessionOut(
        id=session.id,
        persona=PersonaCard.of(persona),
        persona_version=session.persona_version,
        planned_minutes=session.planned_minutes,
        opening=session.opening,
        status=session.status,
        created_at=repo.aware(session.created_at),
        offline=services.client_model.offline,
        client_label=session.client_label,
        evaluator_label=session.evaluator_label,
        turns=turns,
    )


@router.post("/sessions", status_code=201, response_model=SessionOut)
async def start_session(
    body: StartSession, request: Request, services: ServicesDep, principal: CurrentWriter
) -> SessionOut:
    if not library_of(request).can_start(principal, body.persona_id):
        raise NotFound("That simulated client does not exist, or it is not offered to you.")
    session = await services.engine.start_session(
        user_id=principal.user_id, persona_id=body.persona_id
    )
    return _session_out(services, session, [])


@router.get("/sessions/{session_id}", response_model=SessionOut)
async def read_session(
    session_id: str, services: ServicesDep, principal: CurrentUser
) -> SessionOut:
    async with services.database.session() as db:
        session = ensure_can_read(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )
        turns = await repo.list_turns(db, session_id=session.id)
        latest = turns[-1].id if turns else None
        path = path_to(turns, latest)
        critiques = await repo.critiques_for(db, turn_ids=[t.id for t in path])
    path = await settle_abandoned(services, path)
    out = [
        TurnOut(
            id=t.id,
            parent_id=t.parent_id,
            trainee_text=t.trainee_text,
            created_at=repo.aware(t.created_at),
            reply=t.reply_text,
            reply_status=t.reply_status,
            minutes_elapsed=t.minutes_elapsed,
            error=(
                TurnErrorOut(message=t.error_message or "", retryable=bool(t.error_retryable))
                if t.reply_status == "failed"
                else None
            ),
            critique=critiques[t.id].payload if t.id in critiques else None,
        )
        for t in path
    ]
    return _session_out(services, session, out)


async def settle_abandoned(services: Services, turns: list[Turn]) -> list[Turn]:
    """A turn whose run stopped with its process reads as interrupted (retryable), not as a
    reply still streaming; the engine decides which turns no process is writing."""
    return await remote.settle_for_reading(
        services.database, turns, abandoned=services.engine.abandoned
    )


async def _writable(services: ServicesDep, principal: Any, session_id: str) -> PracticeSession:
    async with services.database.session() as db:
        return await _writable_in(db, principal, session_id)


async def _writable_in(db: AsyncSession, principal: Principal, session_id: str) -> PracticeSession:
    return ensure_can_write(principal, await repo.get_practice_session(db, session_id=session_id))


@router.post(
    "/sessions/{session_id}/turns",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def send_turn(
    session_id: str, body: TurnIn, services: ServicesDep, principal: CurrentWriter
) -> EventSourceResponse:
    # The session is read in the transaction that stores the turn: one round trip fewer.
    session, turn_id = await services.engine.submit_to(
        lambda db: _writable_in(db, principal, session_id),
        text=body.text,
        idempotency_key=body.idempotency_key,
        parent_id=body.parent_id,
    )
    return event_stream(services.engine.events(session=session, turn_id=turn_id))


@router.post(
    "/sessions/{session_id}/turns/{turn_id}/retry",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def retry_turn(
    session_id: str, turn_id: str, services: ServicesDep, principal: CurrentWriter
) -> EventSourceResponse:
    session = await _writable(services, principal, session_id)
    await services.engine.retry(session=session, turn_id=turn_id)
    return event_stream(services.engine.events(session=session, turn_id=turn_id))


@router.get(
    "/sessions/{session_id}/turns/{turn_id}/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def turn_events(
    session_id: str, turn_id: str, services: ServicesDep, principal: CurrentUser
) -> Response:
    async with services.database.session() as db:
        session = ensure_can_read(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )
        turn = await repo.get_turn(db, turn_id=turn_id)
    if turn is None or turn.session_id != session.id:
        raise NotFound("That turn does not exist in this session.")
    return event_stream(services.engine.events(session=session, turn_id=turn_id))
