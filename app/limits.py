"""Per-user cost and fairness limits, checked before a trainee turn is stored.

Both limits are read from the database, so they hold across any number of replicas:

- a daily token budget: the usage recorded on the user's turns since midnight UTC (client
  replies and their critiques, input plus output tokens);
- a concurrency limit: the user's replies being written right now (`pending` or `streaming`,
  not older than a run may last).

A refused turn is not stored: the answer is 429 with a message and `Retry-After`, and the
browser keeps the trainee's draft. Two turns sent at the very same moment may both pass the
concurrency check; the limit is for fairness, not a security boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
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
        since = start_of_day(now)
        replies = (
            select(func.coalesce(func.sum(Turn.input_tokens + Turn.output_tokens), 0))
            .join(PracticeSession, PracticeSession.id == Turn.session_id)
            .where(PracticeSession.user_id == user_id, Turn.created_at >= since)
            .scalar_subquery()
        )
        critiques = (
            select(
                func.coalesce(
                    func.sum(CritiqueRecord.input_tokens + CritiqueRecord.output_tokens), 0
                )
            )
            .join(Turn, Turn.id == CritiqueRecord.turn_id)
            .join(PracticeSession, PracticeSession.id == Turn.session_id)
            .where(PracticeSession.user_id == user_id, Turn.created_at >= since)
            .scalar_subquery()
        )
        # One round trip: this runs before every new turn when a budget is set.
        used = await db.scalar(select(replies + critiques))
        return int(used or 0)

    async def replies_running(self, db: AsyncSession, *, user_id: str, now: datetime) -> int:
        running = await db.scalar(
            select(func.count())
            .select_from(Turn)
            .join(PracticeSession, PracticeSession.id == Turn.session_id)
            .where(
                PracticeSession.user_id == user_id,
                Turn.reply_status.in_(("pending", "streaming")),
                func.coalesce(Turn.reply_started_at, Turn.created_at) >= now - self.stale_after,
            )
        )
        return int(running or 0)

    async def check(self, db: AsyncSession, *, user_id: str) -> None:
        """Raise `LimitReached` when this user may not start another reply now."""
        now = datetime.now(UTC)
        if self.daily_token_budget:
            used = await self.tokens_today(db, user_id=user_id, now=now)
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
            running = await self.replies_running(db, user_id=user_id, now=now)
            if running >= self.max_concurrent_turns:
                REFUSED.labels(reason="concurrency").inc()
                replies = "reply" if self.max_concurrent_turns == 1 else "replies"
                raise LimitReached(
                    f"You already have {running} {replies} being written (the most at once is "
                    f"{self.max_concurrent_turns}). Wait for one to finish, then send again; "
                    "your words are kept in the message box.",
                    retry_after=5,
                )
