"""The transcript audit log: who read whose session, written whenever anyone other than the
session's trainee reads it (a tutor reviewing, an admin). Only ids and the route are stored."""

from __future__ import annotations

from app.auth.principal import Principal
from app.storage import review
from app.storage.db import Database


async def record_reads(database: Database, principal: Principal, action: str) -> None:
    reads = list(principal.reads)
    principal.reads.clear()
    async with database.session() as db:
        await review.record_reads(
            db,
            actor_id=principal.user_id,
            actor_role=principal.role,
            action=action,
            reads=reads,
        )
