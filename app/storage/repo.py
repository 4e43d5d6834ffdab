"""Repository functions: every read and write the service makes, each one short transaction.

Functions take an `AsyncSession` and keyword arguments and return table rows; they never
decide who may see what (that is `app.auth.permissions`) and never log transcript text.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.storage.tables import CritiqueRecord, PracticeSession, Turn, User, WebSession, utcnow


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def upsert_user(db: AsyncSession, *, subject: str, display_name: str, role: str) -> User:
    user = await db.scalar(select(User).where(User.subject == subject))
    if user is None:
        user = User(subject=subject, display_name=display_name, role=role)
        db.add(user)
        try:
            await db.commit()
        except IntegrityError:
            # Another request created the same user at the same moment.
            await db.rollback()
            user = await db.scalar(select(User).where(User.subject == subject))
            if user is None:
                raise
    elif user.display_name != display_name:
        user.display_name = display_name
        await db.commit()
    return user


async def create_web_session(
    db: AsyncSession, *, user_id: str, token: str, csrf_token: str, max_age: timedelta
) -> WebSession:
    row = WebSession(
        token_hash=hash_token(token),
        user_id=user_id,
        csrf_token=csrf_token,
        expires_at=utcnow() + max_age,
    )
    db.add(row)
    await db.commit()
    return row


async def web_session_user(db: AsyncSession, *, token: str) -> tuple[WebSession, User] | None:
    row = await db.get(WebSession, hash_token(token))
    if row is None:
        return None
    if aware(row.expires_at) <= utcnow():
        await db.delete(row)
        await db.commit()
        return None
    user = await db.get(User, row.user_id)
    return (row, user) if user is not None else None


async def delete_web_session(db: AsyncSession, *, token: str) -> None:
    await db.execute(delete(WebSession).where(WebSession.token_hash == hash_token(token)))
    await db.commit()


async def create_practice_session(db: AsyncSession, **fields: Any) -> PracticeSession:
    row = PracticeSession(**fields)
    db.add(row)
    await db.commit()
    return row


async def get_practice_session(db: AsyncSession, *, session_id: str) -> PracticeSession | None:
    return await db.get(PracticeSession, session_id)


async def list_turns(db: AsyncSession, *, session_id: str) -> list[Turn]:
    rows = await db.scalars(
        select(Turn).where(Turn.session_id == session_id).order_by(Turn.created_at, Turn.id)
    )
    return list(rows)


async def get_turn(db: AsyncSession, *, turn_id: str) -> Turn | None:
    return await db.get(Turn, turn_id)


async def insert_turn(
    db: AsyncSession, *, session_id: str, parent_id: str | None, idempotency_key: str, text: str
) -> tuple[Turn, bool]:
    """Store a trainee turn. Returns (turn, created); a repeated key returns the first turn."""
    turn = Turn(
        session_id=session_id,
        parent_id=parent_id,
        idempotency_key=idempotency_key,
        trainee_text=text,
    )
    db.add(turn)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        existing = await db.scalar(
            select(Turn).where(
                Turn.session_id == session_id, Turn.idempotency_key == idempotency_key
            )
        )
        if existing is None:
            raise
        return existing, False
    return turn, True


async def claim_reply(db: AsyncSession, *, turn_id: str) -> Turn | None:
    """Mark a reply as being produced. Returns None when it is already complete or running."""
    turn = await db.get(Turn, turn_id, with_for_update=True)
    if turn is None or turn.reply_status in ("complete", "streaming"):
        await db.rollback()
        return None
    turn.reply_status = "streaming"
    turn.reply_attempts += 1
    turn.reply_started_at = utcnow()
    turn.error_kind = turn.error_message = None
    turn.error_retryable = None
    await db.commit()
    return turn


async def store_reply(
    db: AsyncSession,
    *,
    turn_id: str,
    text: str,
    client_state: dict[str, Any],
    minutes_elapsed: float,
    input_tokens: int,
    output_tokens: int,
    cached_tokens: int,
) -> None:
    turn = await db.get(Turn, turn_id)
    if turn is None:
        return
    turn.reply_text = text
    turn.reply_status = "complete"
    turn.reply_finished_at = utcnow()
    turn.client_state = client_state
    turn.minutes_elapsed = minutes_elapsed
    turn.input_tokens, turn.output_tokens = input_tokens, output_tokens
    turn.cached_tokens = cached_tokens
    await db.commit()


async def store_reply_failure(
    db: AsyncSession,
    *,
    turn_id: str,
    kind: str,
    message: str,
    retryable: bool,
    client_state: dict[str, Any] | None,
) -> None:
    turn = await db.get(Turn, turn_id)
    if turn is None or turn.reply_status == "complete":
        return
    turn.reply_status = "failed"
    turn.reply_finished_at = utcnow()
    turn.error_kind, turn.error_message, turn.error_retryable = kind, message, retryable
    if client_state is not None:
        turn.client_state = client_state
    await db.commit()


async def store_critique(
    db: AsyncSession, *, turn_id: str, source: str, judge: str, payload: dict[str, Any]
) -> None:
    existing = await db.get(CritiqueRecord, turn_id)
    if existing is not None:
        existing.source, existing.judge, existing.payload = source, judge, payload
    else:
        db.add(CritiqueRecord(turn_id=turn_id, source=source, judge=judge, payload=payload))
    await db.commit()


async def store_state_after(db: AsyncSession, *, turn_id: str, state: dict[str, Any]) -> None:
    turn = await db.get(Turn, turn_id)
    if turn is not None:
        turn.state_after = state
        await db.commit()


async def critiques_for(db: AsyncSession, *, turn_ids: list[str]) -> dict[str, CritiqueRecord]:
    if not turn_ids:
        return {}
    rows = await db.scalars(select(CritiqueRecord).where(CritiqueRecord.turn_id.in_(turn_ids)))
    return {row.turn_id: row for row in rows}


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
