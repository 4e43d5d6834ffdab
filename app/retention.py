"""Retention: practice sessions older than `retention_days` are deleted, with everything in them.

Runs once at start-up, then every hour while the service runs, and on demand with
`alliance retention apply`. Expired sign-in sessions are cleared at the same time. A setting of
0 keeps sessions until their trainee deletes them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from app.storage import repo, review
from app.storage.db import Database
from app.storage.tables import utcnow

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class RetentionResult:
    sessions_deleted: int
    sign_ins_expired: int


async def apply_retention(database: Database, days: int) -> RetentionResult:
    async with database.session() as db:
        deleted = 0
        if days > 0:
            deleted = await review.delete_sessions_before(
                db, cutoff=utcnow() - timedelta(days=days)
            )
        expired = await repo.delete_expired_web_sessions(db)
    if deleted:
        log.info("retention deleted %d practice sessions older than %d days", deleted, days)
    return RetentionResult(sessions_deleted=deleted, sign_ins_expired=expired)


async def retention_loop(
    database: Database, days: int, *, interval: float = INTERVAL_SECONDS
) -> None:
    """Apply retention now and then every `interval` seconds until cancelled."""
    while True:
        try:
            await apply_retention(database, days)
        except Exception:  # a failed round must not stop the next one
            log.exception("retention round failed")
        await asyncio.sleep(interval)
