"""A trainee's past sessions in headline figures, so they can see whether they are improving.

Each session is summarised along the path it ended on (the path to its latest turn, the same
path the report covers): turns, simulated minutes, and the mean score of each alliance
dimension over the turns that were rated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.dialogue.engine import path_to
from app.evaluator.schema import DIMENSIONS
from app.storage import repo
from app.storage.tables import CritiqueRecord, PracticeSession, Turn


@dataclass(frozen=True, slots=True)
class SessionSummary:
    id: str
    persona_id: str
    status: str
    created_at: datetime
    turns: int
    branches: int
    minutes: float
    planned_minutes: int
    dimension_means: dict[str, float | None] = field(default_factory=dict)

    @property
    def overall(self) -> float | None:
        """The mean of the dimension means that exist: one number to follow over time."""
        values = [v for v in self.dimension_means.values() if v is not None]
        return round(mean(values), 2) if values else None


def _score(payload: dict[str, Any], dimension: str) -> int | None:
    rating = payload.get(dimension)
    if not isinstance(rating, dict) or rating.get("applicable") is False:
        return None
    score = rating.get("score")
    return score if isinstance(score, int) else None


def mean_scores(payloads: Iterable[dict[str, Any]]) -> dict[str, float | None]:
    """Each dimension's mean over the critiques that scored it (None: never scored)."""
    scored = list(payloads)
    means: dict[str, float | None] = {}
    for dimension in DIMENSIONS:
        scores = [s for p in scored if (s := _score(p, dimension)) is not None]
        means[dimension] = round(mean(scores), 2) if scores else None
    return means


def summarise(
    session: PracticeSession, turns: list[Turn], critiques: dict[str, CritiqueRecord]
) -> SessionSummary:
    path = path_to(turns, turns[-1].id) if turns else []
    means = mean_scores(critiques[t.id].payload for t in path if t.id in critiques)
    complete = [t for t in path if t.reply_status == "complete"]
    return SessionSummary(
        id=session.id,
        persona_id=session.persona_id,
        status=session.status,
        created_at=repo.aware(session.created_at),
        turns=len(path),
        branches=len(turns) - len(path),
        minutes=round(complete[-1].minutes_elapsed, 1) if complete else 0.0,
        planned_minutes=session.planned_minutes,
        dimension_means=means,
    )


async def sessions_of(db: AsyncSession, *, user_id: str, limit: int = 200) -> list[SessionSummary]:
    """The user's sessions, oldest first, each summarised. Three queries, whatever the count."""
    sessions = list(
        await db.scalars(
            select(PracticeSession)
            .where(PracticeSession.user_id == user_id)
            .order_by(PracticeSession.created_at.desc(), PracticeSession.id)
            .limit(limit)
        )
    )
    sessions.reverse()
    ids = [s.id for s in sessions]
    if not ids:
        return []
    turns = list(
        await db.scalars(
            select(Turn).where(Turn.session_id.in_(ids)).order_by(Turn.created_at, Turn.id)
        )
    )
    critiques = await repo.critiques_for(db, turn_ids=[t.id for t in turns])
    by_session: dict[str, list[Turn]] = {i: [] for i in ids}
    for turn in turns:
        by_session[turn.session_id].append(turn)
    return [summarise(s, by_session[s.id], critiques) for s in sessions]


@dataclass(frozen=True, slots=True)
class Sparkline:
    """A small line chart as SVG coordinates, drawn by the server: no script, no styles."""

    width: int
    height: int
    points: str
    dots: list[tuple[float, float]]


def sparkline(values: list[float | None], *, top: float = 3.0) -> Sparkline | None:
    """Coordinates for the values that exist (at least two), scaled 0..top from bottom to top."""
    present = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(present) < 2:
        return None
    width, height, pad = 240, 60, 6
    span = max(len(values) - 1, 1)
    dots = [
        (
            round(pad + (width - 2 * pad) * i / span, 1),
            round(height - pad - (height - 2 * pad) * max(0.0, min(v, top)) / top, 1),
        )
        for i, v in present
    ]
    return Sparkline(
        width=width, height=height, points=" ".join(f"{x},{y}" for x, y in dots), dots=dots
    )


def trend(values: list[float | None]) -> str:
    """In words: the later half against the earlier half of the sessions that have a figure."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return "Not enough rated sessions yet to show a trend."
    half = len(present) // 2
    earlier, later = mean(present[:half]), mean(present[-half:])
    change = later - earlier
    if change >= 0.25:
        return f"Improving: recent sessions average {later:.1f} of 3, up from {earlier:.1f}."
    if change <= -0.25:
        return f"Lower lately: recent sessions average {later:.1f} of 3, down from {earlier:.1f}."
    return f"Steady: recent sessions average {later:.1f} of 3 (earlier {earlier:.1f})."
