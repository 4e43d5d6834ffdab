"""SQLite connections for the async engine: one trip to the database thread per statement.

SQLite runs in a thread of its own per connection (aiosqlite), and every call into it is a
round trip: queue the call, wake the thread, wake the event loop with the result. SQLAlchemy's
aiosqlite adapter makes four such trips per statement (open a cursor, execute, fetch the rows,
close the cursor), about 300 µs of CPU each time on a small machine, and a turn runs some
twenty statements. The cursor here does all four in one trip: the statement runs, its rows
are read and its cursor is closed in the database thread, and what SQLAlchemy asks next
(description, row count, rows) is answered from what came back. SQLAlchemy already reads every
row of a result at once for SQLite, so nothing is read that would not have been.

Everything else is aiosqlite's own connection (its thread, commit, rollback, close), created
through SQLAlchemy's public `async_creator` hook with the arguments the URL would have given.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager

_Result = tuple[list[Any] | None, Any, int, int | None, bool]


def _run(connection: sqlite3.Connection, call: Callable[[sqlite3.Cursor], object]) -> _Result:
    """In the database thread: run the statement, read every row, close the cursor."""
    cursor = connection.cursor()
    try:
        call(cursor)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return rows, description, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


class OneTripCursor(aiosqlite.Cursor):
    """An aiosqlite cursor whose statements cost one trip to the database thread each."""

    def __init__(self, connection: OneTripConnection) -> None:
        self.iter_chunk_size = connection._iter_chunk_size
        self._conn: OneTripConnection = connection
        self._rows: list[Any] = []
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    async def _call(self, call: Callable[[sqlite3.Cursor], object]) -> OneTripCursor:
        try:
            result: _Result = await self._conn._execute(  # type: ignore[no-untyped-call]
                _run, self._conn._conn, call
            )
        except BaseException:
            # SQLite may have begun a transaction before the statement failed: end it for real.
            self._conn.open_transaction = True
            raise
        rows, self._description, self._rowcount, self._lastrowid, open_ = result
        self._conn.open_transaction = open_
        self._rows = rows or []
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        args = () if parameters is None else parameters
        return await self._call(lambda cursor: cursor.execute(sql, args))  # type: ignore[arg-type]

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        return await self._call(lambda cursor: cursor.executemany(sql, parameters))  # type: ignore[arg-type]

    async def executescript(self, sql_script: str) -> OneTripCursor:
        return await self._call(lambda cursor: cursor.executescript(sql_script))

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self._arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []  # the database's cursor was closed in its thread

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def description(self) -> Any:
        return self._description

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn._conn


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection, with one-trip cursors, and no trip to end no transaction.

    SQLAlchemy rolls back a connection when it is closed and again when the pool takes it
    back, including after a read that never opened a transaction. Each statement reports
    whether SQLite has a transaction open after it, so ending none costs nothing here.
    """

    open_transaction = False

    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        return OneTripCursor(self)  # the database's cursor is opened with each statement

    async def commit(self) -> None:
        if self.open_transaction:
            await super().commit()
            self.open_transaction = False  # not reached when the commit fails: still open

    async def rollback(self) -> None:
        if self.open_transaction:
            await super().rollback()
            self.open_transaction = False


def connector(args: Sequence[Any], kwargs: dict[str, Any]) -> Callable[[], Any]:
    """`async_creator` for SQLAlchemy: a new connection made as `sqlite3.connect(*args, **kw)`."""
    database = str(args[0]) if args else ""

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(
            lambda: sqlite3.connect(database, *args[1:], **kwargs), iter_chunk_size=64
        )
        connection._thread.daemon = True  # as SQLAlchemy does: never hold up the exit
        await connection
        return connection

    return connect
