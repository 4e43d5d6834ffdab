"""Turns whose run lives in another process: with several replicas, any of them may be asked
about a turn that a different one is writing.

Nothing needed for correctness is kept only in memory. A replica without the run follows the
turn through the database (polling) until its reply is stored, then waits a while for its
critique. Whether an unfinished turn was abandoned (its process died) is decided by the engine:
on PostgreSQL a turn counts as abandoned only once it is older than any run may last (a reply
is stopped after `turn_max_seconds`); SQLite is served by one process, so there a turn without
a run in this process is abandoned at once. An abandoned turn is marked interrupted and can be
retried; the trainee's words stay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.storage import repo
from app.storage.db import Database
from app.storage.tables import CritiqueRecord, Turn, utcnow

POLL_SECONDS = 0.5
# A turn is claimed the moment after it is stored; one left `pending` this long was orphaned.
PENDING_GRACE = timedelta(seconds=30)

INTERRUPTED = "The reply was interrupted before it finished. Your words are saved: try again."


def stale_after(turn_max_seconds: float) -> timedelta:
    """How old an unfinished reply must be before no process can still be writing it.

    A run stops itself after `turn_max_seconds`; the margin covers the moments around that and
    a little clock difference between replicas.
    """
    return timedelta(seconds=turn_max_seconds + min(30.0, turn_max_seconds / 2))


def is_stale(turn: Turn, *, stale_after: timedelta, now: datetime | None = None) -> bool:
    """True when no process can still be writing this unfinished reply."""
    now = now or datetime.now(UTC)
    if turn.reply_status == "pending":
        return now - repo.aware(turn.created_at) > PENDING_GRACE
    if turn.reply_status == "streaming":
        started = turn.reply_started_at or turn.created_at
        return now - repo.aware(started) > stale_after
    return False


async def mark_interrupted(database: Database, turn_id: str) -> Turn | None:
    async with database.session() as db:
        await repo.store_reply_failure(
            db,
            turn_id=turn_id,
            kind="llm_interrupted",
            message=INTERRUPTED,
            retryable=True,
            client_state=None,
        )
        return await repo.get_turn(db, turn_id=turn_id)


async def settle_for_reading(
    database: Database,
    turns: list[Turn],
    *,
    abandoned: Callable[[Turn], bool],
    now: datetime | None = None,
) -> list[Turn]:
    """The turns as a reader should see them: an unfinished turn that no process is writing
    (its process stopped) is marked interrupted first, so it reads as retryable, not as a
    reply that is still on its way.

    Only such a turn is written, and only once (afterwards it reads as failed), so ordinary
    reads stay read-only. A pending turn is given `PENDING_GRACE` even on SQLite, because it
    is stored a moment before its run starts.
    """
    now = now or datetime.now(UTC)
    settled_turns = []
    for turn in turns:
        if _abandoned_for_reading(turn, abandoned=abandoned, now=now):
            turn = await _interrupt_if_unchanged(database, turn) or turn
        settled_turns.append(turn)
    return settled_turns


def _abandoned_for_reading(turn: Turn, *, abandoned: Callable[[Turn], bool], now: datetime) -> bool:
    if turn.reply_status == "pending":
        return now - repo.aware(turn.created_at) > PENDING_GRACE and abandoned(turn)
    return turn.reply_status == "streaming" and abandoned(turn)


async def _interrupt_if_unchanged(database: Database, turn: Turn) -> Turn | None:
    """Mark `turn` interrupted unless it moved on since it was read.

    The update is conditional on the status and attempt that were read, so a run that claimed
    the turn meanwhile (a retry, which counts a new attempt) or finished it is left alone.
    """
    async with database.session() as db:
        await db.execute(
            update(Turn)
            .where(
                Turn.id == turn.id,
                Turn.reply_status == turn.reply_status,
                Turn.reply_attempts == turn.reply_attempts,
            )
            .values(
                reply_status="failed",
                reply_finished_at=utcnow(),
                error_kind="llm_interrupted",
                error_message=INTERRUPTED,
                error_retryable=True,
            )
            .execution_options(synchronize_session=False)
        )
        await db.commit()
        return await repo.get_turn(db, turn_id=turn.id)


async def settled(
    database: Database,
    turn_id: str,
    *,
    abandoned: Callable[[Turn], bool],
    critique_wait: float,
) -> tuple[Turn, CritiqueRecord | None] | None:
    """Wait for a turn written elsewhere to finish; None when the turn no longer exists.

    Returns once the reply is stored (or failed) and its critique is stored, or `critique_wait`
    seconds after the reply finished without one. A turn found abandoned is marked interrupted.
    """
    loop = asyncio.get_running_loop()
    critique_deadline: float | None = None
    while True:
        async with database.session() as db:
            turn = await repo.get_turn(db, turn_id=turn_id)
            if turn is None:
                return None
            critiques = await repo.critiques_for(db, turn_ids=[turn_id])
        critique = critiques.get(turn_id)
        if turn.reply_status in ("pending", "streaming"):
            if abandoned(turn):
                marked = await mark_interrupted(database, turn_id)
                return (marked, critique) if marked is not None else None
        elif critique is not None:
            return turn, critique
        else:
            critique_deadline = critique_deadline or loop.time() + critique_wait
            if loop.time() >= critique_deadline:
                return turn, None
        await asyncio.sleep(POLL_SECONDS)
