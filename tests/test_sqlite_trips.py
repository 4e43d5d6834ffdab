"""SQLite through `open_database`: each statement is one trip to the database thread, and
the results, errors and transactions are SQLAlchemy's as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from app.storage.db import Database, open_database


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield db
    await db.close()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call queued to a database thread, by the name of what it runs."""
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object) -> object:
        calls.append(getattr(fn, "__name__", type(fn).__name__))
        return await original(self, fn, *args)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


async def test_a_statement_is_one_trip(database: Database, trips: list[str]) -> None:
    async with database.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection is checked out and ready
        trips.clear()
        rows = (await conn.execute(text("SELECT 1, 'two'"))).all()
        assert [tuple(r) for r in rows] == [(1, "two")]
        assert trips == ["_run"]
        trips.clear()
        await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert trips == ["_run"]
        await conn.rollback()


async def test_rows_counts_and_ids_are_reported(database: Database) -> None:
    async with database.engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        many = await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": n} for n in "bcdef"]
        )
        assert many.rowcount == 5
        changed = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 3"))
        assert changed.rowcount == 3
        result = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert result.fetchmany(2) == [(1, "a"), (2, "b")]
        assert result.fetchone() == (3, "c")
        assert result.all() == [(4, "d!"), (5, "e!"), (6, "f!")]
        assert (await conn.execute(text("SELECT name FROM t WHERE id = 99"))).first() is None
        streamed = await conn.stream(text("SELECT id FROM t ORDER BY id"))
        assert [row[0] async for row in streamed] == [1, 2, 3, 4, 5, 6]


async def test_errors_and_rollback_are_sqlalchemys(database: Database) -> None:
    async with database.engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        await conn.commit()
        await conn.execute(text("INSERT INTO t (name) VALUES ('dropped')"))
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('kept')"))
        await conn.rollback()
        with pytest.raises(OperationalError, match="no such table"):
            await conn.execute(text("SELECT * FROM missing"))
        await conn.rollback()
        names = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
    assert names == ["kept"]


async def test_the_connection_keeps_its_pragmas(database: Database) -> None:
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 10000


async def test_a_memory_database_works_too() -> None:
    db = open_database("sqlite+aiosqlite:///:memory:")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE m (x)"))
            await conn.execute(text("INSERT INTO m VALUES (42)"))
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT x FROM m"))).scalar() == 42
    finally:
        await db.close()


async def test_ending_no_transaction_costs_no_trip(database: Database, trips: list[str]) -> None:
    async with database.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    trips.clear()
    async with database.engine.connect() as conn:  # a read: closed and pooled with no trip
        await conn.execute(text("SELECT count(*) FROM t"))
    assert trips == ["_run"]
    trips.clear()
    async with database.engine.begin() as conn:  # a write: committed once
        await conn.execute(text("INSERT INTO t (name) VALUES ('w')"))
    assert trips == ["_run", "commit"]


async def test_a_statement_failing_in_a_transaction_is_rolled_back(
    database: Database, trips: list[str]
) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('taken')"))
    trips.clear()
    async with database.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('taken')"))
    assert trips == ["_run", "rollback"]  # SQLite's transaction was ended, not left holding a lock
    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('next')"))
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
    assert names == ["taken", "next"]
