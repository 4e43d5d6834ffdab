"""Repository functions: every read and write the service makes, each one short transaction.

Functions take an `AsyncSession` and keyword arguments and return table rows; they never
decide who may see what (that is `app.auth.permissions`) and never log transcript text. The
sign-in check, which runs before every request, also takes a bare `AsyncConnection` (`Reader`):
it loads no rows as objects, and a connection is returned to the pool with one rollback where a
session needs two. The statements every turn runs are built once, with bound parameters: on
SQLite, building and preparing a statement anew costs more than running it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.llm.base import Usage
from app.storage.tables import (
    Cohort,
    CohortMember,
    CritiqueRecord,
    PracticeSession,
    Turn,
    User,
    WebSession,
    utcnow,
)

Reader = AsyncSession | AsyncConnection


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
    elif (user.display_name, user.role) != (display_name, role):
        # The sign-in is the source of truth: a role changed there changes here.
        user.display_name, user.role = display_name, role
        await db.commit()
    return user


async def set_user_cohorts(db: AsyncSession, *, user_id: str, names: list[str]) -> None:
    """Make the user's cohorts exactly `names`, creating cohorts that do not exist yet."""
    wanted: set[str] = set()
    for name in names:
        cohort = await db.scalar(select(Cohort).where(Cohort.name == name))
        if cohort is None:
            cohort = Cohort(name=name)
            db.add(cohort)
            try:
                await db.commit()
            except IntegrityError:
                await db.rollback()
                cohort = await db.scalar(select(Cohort).where(Cohort.name == name))
                if cohort is None:
                    raise
        wanted.add(cohort.id)
    current = set(
        await db.scalars(select(CohortMember.cohort_id).where(CohortMember.user_id == user_id))
    )
    if current - wanted:
        await db.execute(
            delete(CohortMember).where(
                CohortMember.user_id == user_id, CohortMember.cohort_id.in_(current - wanted)
            )
        )
    for cohort_id in wanted - current:
        db.add(CohortMember(cohort_id=cohort_id, user_id=user_id))
    await db.commit()


async def user_cohort_ids(db: AsyncSession, *, user_id: str) -> list[str]:
    rows = await db.scalars(select(CohortMember.cohort_id).where(CohortMember.user_id == user_id))
    return sorted(rows)


async def trainees_in_cohorts(db: Reader, *, cohort_ids: list[str]) -> list[str]:
    """Ids of the trainees who belong to any of these cohorts."""
    if not cohort_ids:
        return []
    rows = await db.scalars(
        select(CohortMember.user_id)
        .join(User, User.id == CohortMember.user_id)
        .where(CohortMember.cohort_id.in_(cohort_ids), User.role == "trainee")
        .distinct()
    )
    return sorted(rows)


async def create_web_session(
    db: AsyncSession,
    *,
    user_id: str,
    token: str,
    csrf_token: str,
    max_age: timedelta,
    id_token: str | None = None,
) -> WebSession:
    row = WebSession(
        token_hash=hash_token(token),
        user_id=user_id,
        csrf_token=csrf_token,
        expires_at=utcnow() + max_age,
        id_token=id_token,
    )
    db.add(row)
    await db.commit()
    return row


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The user of a live browser session, as every request's sign-in check needs them."""

    user_id: str
    subject: str
    display_name: str
    role: str
    csrf_token: str
    cohort_ids: tuple[str, ...]


_SIGNED_IN = (
    select(
        WebSession.expires_at,
        WebSession.csrf_token,
        User.id,
        User.subject,
        User.display_name,
        User.role,
        CohortMember.cohort_id,
    )
    .select_from(WebSession)
    .join(User, User.id == WebSession.user_id)
    .outerjoin(CohortMember, CohortMember.user_id == User.id)
    .where(WebSession.token_hash == bindparam("token_hash"))
)


async def signed_in(db: Reader, *, token: str) -> SignedIn | None:
    """The session's user and their cohorts; None (and the row deleted) once it has expired.

    One query, a row per cohort: this runs on every request, before anything else can start.
    """
    token_hash = hash_token(token)
    rows = (await db.execute(_SIGNED_IN, {"token_hash": token_hash})).all()
    if not rows:
        return None
    first = rows[0]
    if aware(first.expires_at) <= utcnow():
        await db.execute(delete(WebSession).where(WebSession.token_hash == token_hash))
        await db.commit()
        return None
    return SignedIn(
        user_id=first.id,
        subject=first.subject,
        display_name=first.display_name,
        role=first.role,
        csrf_token=first.csrf_token,
        cohort_ids=tuple(sorted(row.cohort_id for row in rows if row.cohort_id is not None)),
    )


async def delete_web_session(db: AsyncSession, *, token: str) -> WebSession | None:
    """End a browser session; returns the row it was (for the provider's id_token), if any."""
    row = await db.get(WebSession, hash_token(token))
    if row is not None:
        await db.delete(row)
        await db.commit()
    return row


async def delete_expired_web_sessions(db: AsyncSession) -> int:
    result = await db.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
    await db.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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


async def turn_path(db: AsyncSession, *, session_id: str, turn_id: str, depth: int) -> list[Turn]:
    """The last `depth` turns of the conversation down to `turn_id` (inclusive), oldest first.

    One recursive query that walks parent links: a turn's context never needs the session's
    other branches, nor turns older than the history a prompt keeps. Empty when `turn_id` is
    not a turn of this session.
    """
    base = (
        select(Turn.id.label("id"), Turn.parent_id.label("parent_id"), literal(1).label("depth"))
        .where(Turn.id == turn_id, Turn.session_id == session_id)
        .cte("ancestors", recursive=True)
    )
    step = select(Turn.id, Turn.parent_id, base.c.depth + 1).where(
        Turn.id == base.c.parent_id, Turn.session_id == session_id, base.c.depth < depth
    )
    ancestors = base.union_all(step)
    rows = await db.scalars(
        select(Turn).join(ancestors, Turn.id == ancestors.c.id).order_by(ancestors.c.depth.desc())
    )
    return list(rows)


async def insert_turn(
    db: AsyncSession,
    *,
    session_id: str,
    parent_id: str | None,
    idempotency_key: str,
    text: str,
    turn_id: str | None = None,
    claim: bool = False,
    commit: bool = True,
) -> tuple[Turn, bool]:
    """Store a trainee turn. Returns (turn, created); a repeated key returns the first turn.

    With `claim` the turn is stored already claimed for its reply (as `claim_reply` would),
    which saves the run a transaction before the model is called. Without `commit` the turn
    is written (a repeated key is found) but its transaction is left for the caller to commit.
    """
    turn = Turn(
        session_id=session_id,
        parent_id=parent_id,
        idempotency_key=idempotency_key,
        trainee_text=text,
    )
    if turn_id is not None:
        turn.id = turn_id
    if claim:
        turn.reply_status, turn.reply_attempts, turn.reply_started_at = "streaming", 1, utcnow()
    db.add(turn)
    try:
        await (db.commit() if commit else db.flush())
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
    """Mark a reply as being produced. Returns None when it is already complete or running.

    One conditional UPDATE, so of any number of processes claiming at once exactly one wins.
    """
    claimable = Turn.reply_status.in_(("pending", "failed"))
    result = await db.execute(
        update(Turn)
        .where(Turn.id == turn_id, claimable)
        .values(
            reply_status="streaming",
            reply_attempts=Turn.reply_attempts + 1,
            reply_started_at=utcnow(),
            error_kind=None,
            error_message=None,
            error_retryable=None,
        )
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await db.get(Turn, turn_id)


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
    state_after: dict[str, Any] | None = None,
) -> None:
    """Store a finished reply; `state_after` too when the turn's critique is already in.

    One UPDATE, without reading the row first: this runs once per turn.
    """
    values: dict[str, Any] = {
        "reply_text": text,
        "reply_status": "complete",
        "reply_finished_at": utcnow(),
        "client_state": client_state,
        "minutes_elapsed": minutes_elapsed,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_tokens": cached_tokens,
    }
    if state_after is not None:
        values["state_after"] = state_after
    await _update_turn(db, turn_id, values)
    await db.commit()


# The columns it sets are those named in the parameters it is run with.
_UPDATE_TURN = update(Turn).where(Turn.id == bindparam("turn_id"))


async def _update_turn(db: AsyncSession, turn_id: str, values: dict[str, Any]) -> None:
    """Set these columns of one turn (none if it does not exist), in the session's transaction."""
    connection = await db.connection()
    await connection.execute(_UPDATE_TURN, {"turn_id": turn_id, **values})


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
    db: AsyncSession,
    *,
    turn_id: str,
    source: str,
    judge: str,
    payload: dict[str, Any],
    usage: Usage | None = None,
) -> None:
    """Store (or replace) a turn's critique with the evaluator tokens it cost.

    One upsert (a replaced critique keeps its `created_at`): this runs once per turn.
    """
    spent = usage or Usage()
    upsert = _UPSERT_CRITIQUE[db.get_bind().dialect.name]
    connection = await db.connection()
    await connection.execute(
        upsert,
        {
            "turn_id": turn_id,
            "source": source,
            "judge": judge,
            "payload": payload,
            "input_tokens": spent.input_tokens,
            "output_tokens": spent.output_tokens,
            "cached_tokens": spent.cached_tokens,
        },
    )
    await db.commit()


def _critique_upsert(
    statement: postgresql.Insert | sqlite.Insert,
) -> postgresql.Insert | sqlite.Insert:
    """INSERT a critique, or replace the one the turn has (keeping when it was first made)."""
    replaced = ("source", "judge", "payload", "input_tokens", "output_tokens", "cached_tokens")
    return statement.on_conflict_do_update(
        index_elements=[CritiqueRecord.turn_id],
        set_={name: statement.excluded[name] for name in replaced},
    )


# Both dialects spell the upsert alike, each with its own INSERT.
_UPSERT_CRITIQUE = {
    "postgresql": _critique_upsert(postgresql.insert(CritiqueRecord)),
    "sqlite": _critique_upsert(sqlite.insert(CritiqueRecord)),
}


async def store_state_after(db: AsyncSession, *, turn_id: str, state: dict[str, Any]) -> None:
    await _update_turn(db, turn_id, {"state_after": state})
    await db.commit()


async def critiques_for(db: AsyncSession, *, turn_ids: list[str]) -> dict[str, CritiqueRecord]:
    if not turn_ids:
        return {}
    rows = await db.scalars(select(CritiqueRecord).where(CritiqueRecord.turn_id.in_(turn_ids)))
    return {row.turn_id: row for row in rows}


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
