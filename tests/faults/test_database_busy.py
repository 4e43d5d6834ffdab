"""A database too busy to answer is load, not a bug: 503 with Retry-After, in the error shape.

Seen in the benchmark: at 512 concurrent long streams on SQLite, requests waited past the
connection pool's timeout and answered 500. The routes below raise exactly what SQLAlchemy
raises in those cases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tests.conftest import AppHarness, parse_sse

RAISED: dict[str, BaseException] = {
    "pool": PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out"),
    "locked": OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked")),
}


async def _raise(kind: str) -> dict[str, str]:
    raise RAISED[kind]


@pytest.mark.parametrize("kind", list(RAISED))
async def test_database_overload_answers_503(kind: str, harness: AppHarness) -> None:
    harness.app.add_api_route("/api/_overload/{kind}", _raise, methods=["GET"])
    response = await harness.client.get(f"/api/_overload/{kind}")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body: dict[str, Any] = response.json()
    assert body["kind"] == "busy"
    assert "try again" in body["detail"]


async def test_other_database_errors_stay_errors(harness: AppHarness) -> None:
    broken = OperationalError("SELECT ...", {}, sqlite3.OperationalError("no such table: x"))

    async def fail() -> None:
        raise broken

    harness.app.add_api_route("/api/_broken", fail, methods=["GET"])
    with pytest.raises(OperationalError):
        await harness.client.get("/api/_broken")


async def test_database_overload_mid_stream_is_an_error_event(harness: AppHarness) -> None:
    """Once the event stream has begun, the same overload arrives as a retryable error event."""
    from app.api.sse import event_stream
    from app.dialogue.events import Event, TurnStored

    async def events() -> AsyncIterator[Event]:
        yield TurnStored(
            turn_id="t1", session_id="s1", parent_id=None, trainee_text="Hi", created_at="now"
        )
        raise RAISED["pool"]

    async def follow() -> Any:
        return event_stream(events())

    harness.app.add_api_route("/api/_overload-stream", follow, methods=["GET"])
    response = await harness.client.get("/api/_overload-stream")
    assert response.status_code == 200
    frames = parse_sse(response.text)
    assert [name for name, _ in frames] == ["turn", "error"]
    error = frames[1][1]
    assert (error["kind"], error["retryable"], error["stage"]) == ("busy", True, "turn")
