"""Queries for tutor review, the audit log, data export and retention.

Like `repo`, each function is one short transaction and never decides who may see what; the
callers check access first (`app.auth.principal`). Nothing here logs text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.storage.tables import (
    AuditEntry,
    Cohort,
    CohortMember,
    CritiqueRecord,
    PracticeSession,
    RatingOverride,
    Turn,
    TutorComment,
    User,
    utcnow,
)


async def record_reads(
    db: AsyncSession, *, actor_id: str, actor_role: str, action: str, reads: list[tuple[str, str]]
) -> None:
    for session_id, owner_id in dict(reads).items():
        db.add(
            AuditEntry(
                actor_id=actor_id,
                actor_role=actor_role,
                owner_id=owner_id,
                session_id=session_id,
                action=action[:120],
            )
        )
    await db.commit()


async def audit_entries(db: AsyncSession, *, limit: int = 200) -> list[tuple[AuditEntry, str, str]]:
    """The newest entries with the reader's and the owner's names ('' when deleted)."""
    reader = User.__table__.alias("reader")
    owner = User.__table__.alias("owner")
    rows = await db.execute(
        select(AuditEntry, reader.c.display_name, owner.c.display_name)
        .outerjoin(reader, reader.c.id == AuditEntry.actor_id)
        .outerjoin(owner, owner.c.id == AuditEntry.owner_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id)
        .limit(limit)
    )
    return [(entry, r or "", o or "") for entry, r, o in rows.all()]


async def cohorts(db: AsyncSession, *, ids: list[str] | None) -> list[tuple[Cohort, int]]:
    """Cohorts (all when `ids` is None) with how many trainees each has."""
    query = (
        select(Cohort, func.count(User.id))
        .outerjoin(CohortMember, CohortMember.cohort_id == Cohort.id)
        .outerjoin(User, (User.id == CohortMember.user_id) & (User.role == "trainee"))
        .group_by(Cohort.id)
        .order_by(Cohort.name)
    )
    if ids is not None:
        query = query.where(Cohort.id.in_(ids))
    return [(c, int(n)) for c, n in (await db.execute(query)).all()]


async def sessions_of_users(
    db: AsyncSession, *, user_ids: list[str] | None
) -> list[tuple[PracticeSession, User]]:
    """Sessions of these users (everyone's when None), newest first."""
    query = (
        select(PracticeSession, User)
        .join(User, User.id == PracticeSession.user_id)
        .order_by(PracticeSession.created_at.desc())
    )
    if user_ids is not None:
        query = query.where(PracticeSession.user_id.in_(user_ids))
    return [(s, u) for s, u in (await db.execute(query)).all()]


async def critiques_of_sessions(
    db: AsyncSession, *, session_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Critique payloads per session, oldest turn first."""
    if not session_ids:
        return {}
    rows = await db.execute(
        select(Turn.session_id, CritiqueRecord.payload)
        .join(CritiqueRecord, CritiqueRecord.turn_id == Turn.id)
        .where(Turn.session_id.in_(session_ids))
        .order_by(Turn.created_at)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for session_id, payload in rows.all():
        out.setdefault(session_id, []).append(payload)
    return out


async def comments_for(db: AsyncSession, *, session_id: str) -> list[tuple[TutorComment, str]]:
    rows = await db.execute(
        select(TutorComment, User.display_name)
        .join(User, User.id == TutorComment.author_id)
        .where(TutorComment.session_id == session_id)
        .order_by(TutorComment.created_at, TutorComment.id)
    )
    return [(c, n) for c, n in rows.all()]


async def add_comment(
    db: AsyncSession, *, session_id: str, turn_id: str, author_id: str, text: str
) -> TutorComment:
    row = TutorComment(session_id=session_id, turn_id=turn_id, author_id=author_id, text=text)
    db.add(row)
    await db.commit()
    return row


async def overrides_for(db: AsyncSession, *, session_id: str) -> list[tuple[RatingOverride, str]]:
    rows = await db.execute(
        select(RatingOverride, User.display_name)
        .join(User, User.id == RatingOverride.tutor_id)
        .where(RatingOverride.session_id == session_id)
        .order_by(RatingOverride.updated_at)
    )
    return [(o, n) for o, n in rows.all()]


async def set_override(
    db: AsyncSession,
    *,
    session_id: str,
    turn_id: str,
    dimension: str,
    score: int | None,
    ai_score: int | None,
    note: str,
    tutor_id: str,
) -> RatingOverride:
    row = await db.scalar(
        select(RatingOverride).where(
            RatingOverride.turn_id == turn_id, RatingOverride.dimension == dimension
        )
    )
    if row is None:
        row = RatingOverride(session_id=session_id, turn_id=turn_id, dimension=dimension)
        db.add(row)
    row.score, row.ai_score, row.note = score, ai_score, note
    row.tutor_id, row.updated_at = tutor_id, utcnow()
    await db.commit()
    return row


async def overrides_of_users(
    db: AsyncSession, *, user_ids: list[str] | None
) -> list[RatingOverride]:
    query = select(RatingOverride).join(
        PracticeSession, PracticeSession.id == RatingOverride.session_id
    )
    if user_ids is not None:
        query = query.where(PracticeSession.user_id.in_(user_ids))
    return list(await db.scalars(query))


async def delete_sessions_before(db: AsyncSession, *, cutoff: datetime) -> int:
    """Delete practice sessions (turns, critiques, comments follow) started before `cutoff`."""
    result = await db.execute(delete(PracticeSession).where(PracticeSession.created_at < cutoff))
    await db.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_user(db: AsyncSession, *, user_id: str) -> None:
    """Delete a person and everything of theirs (sessions, turns, memberships, browser sessions)."""
    await db.execute(delete(User).where(User.id == user_id))
    await db.commit()
