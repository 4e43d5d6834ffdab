"""A turn's model request overlaps the commit that stores it, and never gets ahead of it.

The run builds the prompt and sends it while the transaction storing the trainee's words makes
its round trip, so the database's time is hidden behind the model's. Nothing of the reply is
relayed or stored before that commit has returned, and a commit that fails stops the run:
the trainee is told to send again and no trace of the turn is left.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.llm.base import ChatRequest, StreamChunk
from app.storage.tables import Turn
from tests.conftest import AppHarness, parse_sse
from tests.doubles import FunctionModel

MARKED = "Shall we look at what brought you here today?"


def turns_being_stored(db: AsyncSession) -> list[Turn]:
    """The marked trainee turn, when this transaction is the one storing it."""
    return [
        o
        for o in db.sync_session.identity_map.values()
        if isinstance(o, Turn) and o.trainee_text == MARKED and o.reply_status == "streaming"
    ]


def hook_commit(
    monkeypatch: pytest.MonkeyPatch, around: Callable[[Callable[[], Awaitable[None]]], Any]
) -> None:
    """Run the commit that stores the marked turn through `around(real_commit)`."""
    real = AsyncSession.commit

    async def commit(self: AsyncSession) -> None:
        if turns_being_stored(self):
            await around(lambda: real(self))
        else:
            await real(self)

    monkeypatch.setattr(AsyncSession, "commit", commit)


async def count_turns(h: AppHarness) -> int:
    async with h.services.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(Turn)) or 0)


async def send(h: AppHarness, session_id: str, key: str) -> Any:
    return await h.client.post(
        f"/api/sessions/{session_id}/turns",
        json={"text": MARKED, "idempotency_key": key, "parent_id": None},
        headers={**h.headers(), "Accept": "text/event-stream"},
    )


async def test_the_model_is_asked_while_the_turn_commits_and_nothing_precedes_the_commit(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline: list[tuple[str, float]] = []
    seen_stored: list[int] = []
    harness: list[AppHarness] = []

    async def slow_commit(real: Callable[[], Awaitable[None]]) -> None:
        timeline.append(("commit begins", time.perf_counter()))
        await asyncio.sleep(0.2)  # a slow database: the model is asked meanwhile
        await real()
        timeline.append(("commit returned", time.perf_counter()))

    async def stream(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        timeline.append(("model asked", time.perf_counter()))
        yield StreamChunk(text="I")
        # The first piece has been taken by the run (and relayed): the turn is stored by now,
        # as another connection sees it.
        seen_stored.append(await count_turns(harness[0]))
        for piece in (" am", " not", " sure."):
            yield StreamChunk(text=piece)

    hook_commit(monkeypatch, slow_commit)
    async with make_harness(client_model=FunctionModel(stream=stream)) as h:
        harness.append(h)
        await h.sign_in()
        persona = next(iter(h.services.personas))
        session = await h.start(persona)
        response = await send(h, session["id"], uuid.uuid4().hex)
        assert response.status_code == 200, response.text
        events = parse_sse(response.text)

    order = [name for name, _ in timeline]
    assert order == ["commit begins", "model asked", "commit returned"], order
    assert seen_stored == [1]
    names = [name for name, _ in events]
    assert names[0] == "turn"
    assert names.index("turn") < names.index("delta") < names.index("reply")
    assert "".join(d["text"] for n, d in events if n == "delta") == "I am not sure."
    assert next(d for n, d in events if n == "reply")["text"] == "I am not sure."


async def test_a_commit_that_fails_stops_the_run_and_leaves_no_turn(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [1]
    asked: list[str] = []
    closed: list[str] = []
    model_waits = asyncio.Event()

    async def failing_commit(real: Callable[[], Awaitable[None]]) -> None:
        if failures:
            failures.pop()
            # Let the run reach the model first, then fail as an overloaded SQLite does.
            await model_waits.wait()
            raise OperationalError("COMMIT", {}, Exception("database is locked"))
        await real()

    async def stream(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        asked.append("asked")
        try:
            model_waits.set()
            if len(asked) == 1:
                await asyncio.sleep(30)  # the first call is cut off by the failed commit
            for piece in ("Where", " do", " I", " start?"):
                yield StreamChunk(text=piece)
        finally:
            closed.append("closed")

    hook_commit(monkeypatch, failing_commit)
    async with make_harness(client_model=FunctionModel(stream=stream)) as h:
        await h.sign_in()
        persona = next(iter(h.services.personas))
        session = await h.start(persona)
        key = uuid.uuid4().hex

        refused = await send(h, session["id"], key)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"]
        assert refused.json()["kind"] == "busy"
        await asyncio.sleep(0.05)
        # The model call was cut off, the run is gone, nothing of the turn was stored.
        assert closed == ["closed"]
        assert h.services.engine._runs == {}
        assert await count_turns(h) == 0

        # Sending again (the same request key) stores the turn once and gets its reply.
        again = await send(h, session["id"], key)
        assert again.status_code == 200, again.text
        events = parse_sse(again.text)
        assert next(d for n, d in events if n == "reply")["text"] == "Where do I start?"
        assert await count_turns(h) == 1
        read_back = (await h.client.get(f"/api/sessions/{session['id']}")).json()
        assert [t["trainee_text"] for t in read_back["turns"]] == [MARKED]
        assert read_back["turns"][0]["reply"] == "Where do I start?"
