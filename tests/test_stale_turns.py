"""A turn whose process stopped mid-reply reads as interrupted and retryable, on SQLite at once
and on PostgreSQL once no replica can still be writing it; ordinary reads write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, update

from app.dialogue import remote
from app.storage import repo
from app.storage.tables import Turn, utcnow
from tests.conftest import AppHarness, parse_sse


def a_persona(h: AppHarness) -> str:
    return next(iter(h.services.personas.values())).id


@contextmanager
def counted_updates(h: AppHarness) -> Iterator[list[str]]:
    """Every UPDATE the app sends to the database while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            seen.append(statement)

    engine = h.services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def orphan_turn(h: AppHarness, session_id: str, *, started_ago: timedelta) -> str:
    """A turn claimed by a run that no longer exists, as a killed process leaves it."""
    database = h.services.database
    async with database.session() as db:
        turn, _ = await repo.insert_turn(
            db, session_id=session_id, parent_id=None, idempotency_key="orphan-1", text="Go on."
        )
        await repo.claim_reply(db, turn_id=turn.id)
        await db.execute(
            update(Turn)
            .where(Turn.id == turn.id)
            .values(reply_started_at=utcnow() - started_ago)
            .execution_options(synchronize_session=False)
        )
        await db.commit()
        return turn.id


def single_process(h: AppHarness) -> bool:
    return bool(h.services.database.engine.dialect.name == "sqlite")


async def test_an_orphaned_turn_reads_as_interrupted_and_can_be_retried(
    harness: AppHarness,
) -> None:
    await harness.sign_in()
    sid = (await harness.start(a_persona(harness)))["id"]
    margin = remote.stale_after(harness.services.settings.turn_max_seconds)
    # On SQLite no other process can be writing it; on PostgreSQL it must be past the margin.
    started_ago = timedelta(seconds=1) if single_process(harness) else margin * 2
    turn_id = await orphan_turn(harness, sid, started_ago=started_ago)

    with counted_updates(harness) as updates:
        read = (await harness.client.get(f"/api/sessions/{sid}")).json()
    assert len(updates) == 1  # marked once
    [turn] = read["turns"]
    assert turn["id"] == turn_id
    assert turn["reply_status"] == "failed"
    assert turn["error"] == {"message": remote.INTERRUPTED, "retryable": True}
    assert turn["trainee_text"] == "Go on."

    with counted_updates(harness) as updates:
        tree = (await harness.client.get(f"/api/sessions/{sid}/turns")).json()
        again = (await harness.client.get(f"/api/sessions/{sid}")).json()
    assert updates == []  # already settled: reads stay reads
    assert tree["turns"][0]["reply_status"] == "failed"
    assert again["turns"][0]["error"]["retryable"] is True

    retried = parse_sse(
        (
            await harness.client.post(
                f"/api/sessions/{sid}/turns/{turn_id}/retry", headers=harness.headers()
            )
        ).text
    )
    assert any(name == "reply" for name, _ in retried)
    final = (await harness.client.get(f"/api/sessions/{sid}")).json()
    assert final["turns"][0]["reply_status"] == "complete"


async def test_the_tree_settles_an_orphaned_turn_too(harness: AppHarness) -> None:
    await harness.sign_in()
    sid = (await harness.start(a_persona(harness)))["id"]
    margin = remote.stale_after(harness.services.settings.turn_max_seconds)
    await orphan_turn(harness, sid, started_ago=margin * 2)
    tree = (await harness.client.get(f"/api/sessions/{sid}/turns")).json()
    assert tree["turns"][0]["reply_status"] == "failed"
    assert tree["turns"][0]["error"]["retryable"] is True


async def test_a_recent_turn_on_postgresql_may_live_on_another_replica(
    harness: AppHarness,
) -> None:
    await harness.sign_in()
    sid = (await harness.start(a_persona(harness)))["id"]
    await orphan_turn(harness, sid, started_ago=timedelta(seconds=1))
    with counted_updates(harness) as updates:
        read = (await harness.client.get(f"/api/sessions/{sid}")).json()
    if single_process(harness):
        assert read["turns"][0]["reply_status"] == "failed"
    else:
        assert read["turns"][0]["reply_status"] == "streaming"
        assert updates == []


async def test_reading_finished_turns_writes_nothing(harness: AppHarness) -> None:
    await harness.sign_in()
    sid = (await harness.start(a_persona(harness)))["id"]
    await harness.turn(sid, "How has this week been for you?")
    with counted_updates(harness) as updates:
        read = (await harness.client.get(f"/api/sessions/{sid}")).json()
        await harness.client.get(f"/api/sessions/{sid}/turns")
    assert read["turns"][0]["reply_status"] == "complete"
    assert updates == []


async def test_a_just_stored_turn_is_not_interrupted_before_its_run_starts(
    harness: AppHarness,
) -> None:
    await harness.sign_in()
    sid = (await harness.start(a_persona(harness)))["id"]
    async with harness.services.database.session() as db:
        turn, _ = await repo.insert_turn(
            db, session_id=sid, parent_id=None, idempotency_key="fresh-001", text="Hello."
        )
    read = (await harness.client.get(f"/api/sessions/{sid}")).json()
    assert read["turns"][0]["reply_status"] == "pending"  # within the grace for a run to start

    async with harness.services.database.session() as db:
        await db.execute(
            update(Turn)
            .where(Turn.id == turn.id)
            .values(created_at=utcnow() - remote.PENDING_GRACE * 2)
            .execution_options(synchronize_session=False)
        )
        await db.commit()
    read = (await harness.client.get(f"/api/sessions/{sid}")).json()
    assert read["turns"][0]["reply_status"] == "failed"


async def test_a_turn_claimed_again_since_it_was_read_is_left_alone(harness: AppHarness) -> None:
    await harness.sign_in()
    sid = (await harness.start(a_persona(harness)))["id"]
    database = harness.services.database
    turn_id = await orphan_turn(harness, sid, started_ago=timedelta(hours=1))
    async with database.session() as db:
        seen = await repo.get_turn(db, turn_id=turn_id)
    assert seen is not None
    async with database.session() as db:
        # A retry elsewhere takes the turn over between the read and the write.
        await repo.store_reply_failure(
            db, turn_id=turn_id, kind="x", message="x", retryable=True, client_state=None
        )
        assert await repo.claim_reply(db, turn_id=turn_id) is not None
    [after] = await remote.settle_for_reading(database, [seen], abandoned=lambda _t: True)
    assert after.reply_status == "streaming"
    assert after.reply_attempts == seen.reply_attempts + 1
