"""Queries for personas written in the browser: versions, publications. One transaction each."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.storage.tables import AuthoredPersona, PersonaPublication, PersonaVersion


async def get_persona(db: AsyncSession, *, persona_id: str) -> AuthoredPersona | None:
    return await db.get(AuthoredPersona, persona_id)


async def list_personas(
    db: AsyncSession, *, owner_id: str | None
) -> list[tuple[AuthoredPersona, int]]:
    """Authored personas (all when owner_id is None) with their latest version number."""
    query = (
        select(AuthoredPersona, func.max(PersonaVersion.version))
        .join(PersonaVersion, PersonaVersion.persona_id == AuthoredPersona.id)
        .group_by(AuthoredPersona.id)
        .order_by(AuthoredPersona.id)
    )
    if owner_id is not None:
        query = query.where(AuthoredPersona.owner_id == owner_id)
    return [(p, int(v)) for p, v in (await db.execute(query)).all()]


async def create_persona(
    db: AsyncSession, *, persona_id: str, owner_id: str, yaml_text: str, note: str
) -> PersonaVersion | None:
    """The first version of a new persona; None when the id is already taken."""
    db.add(AuthoredPersona(id=persona_id, owner_id=owner_id))
    row = PersonaVersion(
        persona_id=persona_id, version=1, yaml_text=yaml_text, author_id=owner_id, note=note
    )
    db.add(row)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        return None
    return row


async def add_version(
    db: AsyncSession, *, persona_id: str, author_id: str, yaml_text: str, note: str
) -> PersonaVersion:
    for _ in range(3):  # two tutors saving at once: the loser takes the next number
        latest = await db.scalar(
            select(func.max(PersonaVersion.version)).where(PersonaVersion.persona_id == persona_id)
        )
        row = PersonaVersion(
            persona_id=persona_id,
            version=int(latest or 0) + 1,
            yaml_text=yaml_text,
            author_id=author_id,
            note=note,
        )
        db.add(row)
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()
            continue
        return row
    raise RuntimeError("could not number the new persona version")


async def versions(db: AsyncSession, *, persona_id: str) -> list[PersonaVersion]:
    rows = await db.scalars(
        select(PersonaVersion)
        .where(PersonaVersion.persona_id == persona_id)
        .order_by(PersonaVersion.version)
    )
    return list(rows)


async def get_version(db: AsyncSession, *, persona_id: str, version: int) -> PersonaVersion | None:
    row: PersonaVersion | None = await db.scalar(
        select(PersonaVersion).where(
            PersonaVersion.persona_id == persona_id, PersonaVersion.version == version
        )
    )
    return row


async def publish(
    db: AsyncSession, *, persona_id: str, version: int, cohort_ids: list[str]
) -> None:
    """Publish `version` to exactly these cohorts (replacing earlier publications)."""
    await db.execute(delete(PersonaPublication).where(PersonaPublication.persona_id == persona_id))
    for cohort_id in sorted(set(cohort_ids)):
        db.add(PersonaPublication(persona_id=persona_id, cohort_id=cohort_id, version=version))
    await db.commit()


async def publications(db: AsyncSession) -> list[PersonaPublication]:
    return list(await db.scalars(select(PersonaPublication)))


async def all_versions(db: AsyncSession) -> list[PersonaVersion]:
    """Every stored version: sessions keep the version they began with, so all stay runnable."""
    return list(await db.scalars(select(PersonaVersion)))
