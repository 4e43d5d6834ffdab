"""Migrations on SQLite and PostgreSQL: an empty database reaches head; every revision keeps the
rows written under the one before it; the models and the migrations describe the same schema.

The upgrade test runs over every pair of consecutive revisions, so a new migration is covered
as soon as it exists. Its rows are generated from the reflected schema at the older revision
(every table, every column, foreign keys pointing at the rows already made) and inserted with
plain SQL, the way an existing deployment's data would be sitting there.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from app.storage.db import alembic_config, open_database
from app.storage.tables import Base
from tests.conftest import POSTGRES_URL, _create_pg_database, _drop_pg_database, need

SCRIPTS = ScriptDirectory.from_config(alembic_config())
REVISIONS = [rev.revision for rev in reversed(list(SCRIPTS.walk_revisions()))]
PAIRS = list(itertools.pairwise(REVISIONS))
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_history_is_one_line_of_revisions() -> None:
    assert len(SCRIPTS.get_heads()) == 1, "migrations have branched: merge them into one head"
    assert REVISIONS[0] == "0001"
    assert REVISIONS[-1] == SCRIPTS.get_current_head()


async def run(url: str, fn: Any) -> Any:
    database = open_database(url)
    try:
        async with database.engine.begin() as connection:
            return await connection.run_sync(fn)
    finally:
        await database.close()


def upgrade_to(revision: str) -> Any:
    def step(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    return step


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def test_an_empty_database_upgrades_to_head(database_url: str) -> None:
    await run(database_url, upgrade_to("head"))
    tables = await run(database_url, lambda c: set(sa.inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables
    assert await run(database_url, current_revision) == REVISIONS[-1]
    # Running it again is harmless: `alliance db upgrade` runs on every start.
    await run(database_url, upgrade_to("head"))


def sample(column: sa.Column[Any], table: str) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.DateTime):
        return WHEN
    if isinstance(kind, sa.JSON):
        return {"kept": [1, "two"], "table": table}
    if isinstance(kind, sa.Integer):
        return 7
    if isinstance(kind, sa.Float | sa.Numeric):
        return 1.5
    if isinstance(kind, sa.String):  # also Text
        text = f"{table}.{column.name}.{uuid.uuid4().hex}"
        length = getattr(kind, "length", None)
        return text[-length:] if length else text
    raise AssertionError(f"add a sample value for {table}.{column.name} of type {kind!r}")


def seed(connection: Connection) -> dict[str, dict[str, Any]]:
    """One row in every table, every column filled, foreign keys pointing at earlier rows."""
    metadata = sa.MetaData()
    metadata.reflect(connection)
    rows: dict[str, dict[str, Any]] = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        values: dict[str, Any] = {}
        for column in table.columns:
            foreign = next(iter(column.foreign_keys), None)
            if foreign is None:
                values[column.name] = sample(column, table.name)
            elif foreign.column.table.name in rows:
                values[column.name] = rows[foreign.column.table.name][foreign.column.name]
            else:
                assert column.nullable, f"{table.name}.{column.name} needs a row to point at"
                values[column.name] = None  # e.g. a turn's parent: the first turn has none
        connection.execute(table.insert().values(**values))
        rows[table.name] = values
    return rows


def same(stored: Any, written: Any) -> bool:
    if isinstance(written, datetime) and isinstance(stored, datetime):
        return stored.replace(tzinfo=stored.tzinfo or UTC) == written
    return bool(stored == written)


def surviving(rows: dict[str, dict[str, Any]]) -> Any:
    def check(connection: Connection) -> list[str]:
        metadata = sa.MetaData()
        metadata.reflect(connection)
        problems: list[str] = []
        for name, values in rows.items():
            if name not in metadata.tables:
                continue  # a table the migration dropped on purpose
            table = metadata.tables[name]
            key = [table.c[c.name] == values[c.name] for c in table.primary_key.columns]
            row = connection.execute(sa.select(table).where(*key)).mappings().first()
            if row is None:
                problems.append(f"{name}: the row is gone")
                continue
            problems += [
                f"{name}.{column}: {row[column]!r} != {written!r}"
                for column, written in values.items()
                if column in row and not same(row[column], written)
            ]
        return problems

    return check


@pytest.mark.parametrize(("older", "newer"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
async def test_rows_written_before_a_revision_survive_it(
    database_url: str, older: str, newer: str
) -> None:
    await run(database_url, upgrade_to(older))
    rows = await run(database_url, seed)
    assert {"users", "turns"} <= set(rows)
    await run(database_url, upgrade_to(newer))
    assert await run(database_url, current_revision) == newer
    assert await run(database_url, surviving(rows)) == []
    # And on to head, for the revisions after this one.
    await run(database_url, upgrade_to("head"))
    assert await run(database_url, surviving(rows)) == []


def test_there_is_a_revision_pair_to_test() -> None:
    # Guards the parametrised test above against silently collecting nothing.
    assert PAIRS, "only one revision exists; the upgrade-with-data test needs two"


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return [
        diff
        for diff in compare_metadata(context, Base.metadata)
        if not (
            isinstance(diff, tuple)
            and diff[0] == "remove_table"
            and diff[1].name == "alembic_version"
        )
    ]


async def test_the_models_match_the_migrations(database_url: str) -> None:
    await run(database_url, upgrade_to("head"))
    assert await run(database_url, differences) == [], (
        "app/storage/tables.py and the migrations differ: add a migration for the change"
    )


async def test_the_comparison_notices_a_schema_behind_the_models(database_url: str) -> None:
    """The check above is not vacuous: one revision short of head, it finds what is missing."""
    assert PAIRS, "needs two revisions"
    await run(database_url, upgrade_to(PAIRS[-1][0]))
    assert await run(database_url, differences) != []


@pytest.fixture
async def pg_only_url() -> AsyncIterator[str]:
    need(bool(POSTGRES_URL), "set ALLIANCE_TEST_POSTGRES_URL to run the PostgreSQL variant")
    url = await _create_pg_database(POSTGRES_URL)
    try:
        yield url
    finally:
        await _drop_pg_database(POSTGRES_URL, url)


async def test_replicas_starting_together_migrate_one_at_a_time(pg_only_url: str) -> None:
    """Every replica runs the migrations as it starts; on an empty database they must queue.
    (PostgreSQL only: a SQLite database is served by a single process.)"""
    database_url = pg_only_url
    databases = [open_database(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(database.upgrade() for database in databases))
    finally:
        for database in databases:
            await database.close()
    assert await run(database_url, current_revision) == REVISIONS[-1]
