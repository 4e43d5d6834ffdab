"""Per-user cost and fairness limits, checked before a trainee turn is stored.

Both limits are read from the database, so they hold across any number of replicas:

- a daily token budget: the usage recorded on the user's turns since midnight UTC (client
  replies and their critiques, input plus output tokens);
- a concurrency limit: the user's replies being written right now (`pending` or `streaming`,
  not older than a run may last).

A refused turn is not stored: the answer is 429 with a message and `Retry-After`, and the
browser keeps the trainee's draft; a repeated request for a turn already stored is answered
from that turn, never refused. Two turns sent at the very same moment may both pass the
concurrency check; the limit is for fairness, not a security boundary.

The check runs before every new turn, so it is one query, built once per set of limits.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.dialogue import remote
from app.errors import AllianceError
from app.observability.metrics import REFUSED
from app.storage.tables import CritiqueRecord, PracticeSession, Turn


class LimitReached(AllianceError):
    status_code = 429
    kind = "limit_reached"
    retryable = True

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def start_of_day(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _clock(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 90:
        return f"{minutes} minute{'s' * (minutes != 1)}"
    return f"{round(minutes / 60)} hours"


def _tokens_since() -> ColumnElement[Any]:
    """Client and evaluator tokens spent on `:user_id`'s turns since `:since`."""
    user_id: BindParameter[str] = bindparam("user_id")
    since: BindParameter[datetime] = bindparam("since")
    replies = (
        select(func.coalesce(func.sum(Turn.input_tokens + Turn.output_tokens), 0))
        .join(PracticeSession, PracticeSession.id == Turn.session_id)
        .where(PracticeSession.user_id == user_id, Turn.created_at >= since)
        .scalar_subquery()
    )
    critiques = (
        select(
            func.coalesce(func.sum(CritiqueRecord.input_tokens + CritiqueRecord.output_tokens), 0)
        )
        .join(Turn, Turn.id == CritiqueRecord.turn_id)
        .join(PracticeSession, PracticeSession.id == Turn.session_id)
        .where(PracticeSession.user_id == user_id, Turn.created_at >= since)
        .scalar_subquery()
    )
    return replies + critiques


def _running() -> ColumnElement[Any]:
    """`:user_id`'s replies being written, started (or stored) since `:stale_since`."""
    return (
        select(func.count())
        .select_from(Turn)
        .join(PracticeSession, PracticeSession.id == Turn.session_id)
        .where(
            PracticeSession.user_id == bindparam("user_id"),
            Turn.reply_status.in_(("pending", "streaming")),
            func.coalesce(Turn.reply_started_at, Turn.created_at) >= bindparam("stale_since"),
        )
        .scalar_subquery()
    )


def _repeated() -> ColumnElement[Any]:
    """The turn stored under `:idempotency_key` in `:session_id`, if any."""
    return (
        select(Turn.id)
        .where(
            Turn.session_id == bindparam("session_id"),
            Turn.idempotency_key == bindparam("idempotency_key"),
        )
        .scalar_subquery()
    )


@functools.cache
def _figures(budget: bool, concurrency: bool, repeated: bool) -> Select[Any]:
    """Every figure the check compares, in one statement (built once per shape)."""
    return select(
        (_repeated() if repeated else null()).label("repeated"),
        (_tokens_since() if budget else literal(0)).label("used"),
        (_running() if concurrency else literal(0)).label("running"),
    )


@dataclass(frozen=True, slots=True)
class TurnLimits:
    daily_token_budget: int
    max_concurrent_turns: int
    turn_max_seconds: float

    @property
    def stale_after(self) -> timedelta:
        return remote.stale_after(self.turn_max_seconds)

    async def tokens_today(self, db: AsyncSession, *, user_id: str, now: datetime) -> int:
        """Client and evaluator tokens spent on the user's turns since midnight UTC."""
        query = _figures(budget=True, concurrency=False, repeated=False)
        read = (await db.execute(query, {"user_id": user_id, "since": start_of_day(now)})).one()
        return int(read.used or 0)

    async def replies_running(self, db: AsyncSession, *, user_id: str, now: datetime) -> int:
        query = _figures(budget=False, concurrency=True, repeated=False)
        params = {"user_id": user_id, "stale_since": now - self.stale_after}
        read = (await db.execute(query, params)).one()
        return int(read.running or 0)

    async def check(
        self, db: AsyncSession, *, user_id: str, repeating: tuple[str, str] | None = None
    ) -> None:
        """Raise `LimitReached` when this user may not start another reply now.

        `repeating` is (session id, idempotency key) of the request: when a turn is already
        stored under that key, the request is answered from it and nothing is refused.
        """
        if not (self.daily_token_budget or self.max_concurrent_turns):
            return
        now = datetime.now(UTC)
        params: dict[str, Any] = {"user_id": user_id}
        if self.daily_token_budget:
            params["since"] = start_of_day(now)
        if self.max_concurrent_turns:
            params["stale_since"] = now - self.stale_after
        if repeating is not None:
            params["session_id"], params["idempotency_key"] = repeating
        query = _figures(
            budget=bool(self.daily_token_budget),
            concurrency=bool(self.max_concurrent_turns),
            repeated=repeating is not None,
        )
        read = (await db.execute(query, params)).one()
        if read.repeated is not None:
            return
        if self.daily_token_budget:
            used = int(read.used or 0)
            if used >= self.daily_token_budget:
                REFUSED.labels(reason="daily_budget").inc()
                wait = (start_of_day(now) + timedelta(days=1) - now).total_seconds()
                raise LimitReached(
                    "You have used today's practice allowance "
                    f"({self.daily_token_budget:,} tokens). It renews at midnight UTC, in about "
                    f"{_clock(wait)}. Your words are kept in the message box.",
                    retry_after=math.ceil(wait),
                )
        if self.max_concurrent_turns:
            running = int(read.running or 0)
            if running >= self.max_concurrent_turns:
                REFUSED.labels(reason="concurrency").inc()
                replies = "reply" if self.max_concurrent_turns == 1 else "replies"
                raise LimitReached(
                    f"You already have {running} {replies} being written (the most at once is "
                    f"{self.max_concurrent_turns}). Wait for one to finish, then send again; "
                    "your words are kept in the message box.",
                    retry_after=5,
                )
