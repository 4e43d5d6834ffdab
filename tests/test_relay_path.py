"""The hot path of a turn: the relay's wake-ups, the pre-encoded delta frames, and the single
transaction that stores a turn already claimed with the conversation it continues."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import event
from sse_starlette import ServerSentEvent

from app.api.sse import _frames, frame
from app.dialogue.events import CritiqueReady, Delta, Done, Event, TurnStored, payload
from app.dialogue.relay import TurnRun
from app.storage import repo
from tests.conftest import AppHarness


def library_frame(event: Event) -> bytes:
    """The frame sse-starlette itself would write for this event."""
    data = json.dumps(payload(event), ensure_ascii=False, separators=(",", ":"))
    return ServerSentEvent(data=data, event=event.name).encode()


TEXTS = ['She said "no".', "two\nlines\r\nand a CR\r", "tab\tand \u2028 and \u0085", "é 🙂 \\"]


async def test_delta_frames_are_byte_identical_to_the_library_encoding() -> None:
    events: list[Event] = [
        TurnStored(turn_id="t1", session_id="s", parent_id=None, trainee_text="Hi", created_at="x"),
        *(Delta(turn_id="t1", text=text) for text in TEXTS),
        Delta(turn_id="t2", text="another turn's prefix"),
        CritiqueReady(turn_id="t1", critique={"notes": ["é", {"n": 1}]}),
        Done(turn_id="t1"),
    ]

    async def source() -> Any:
        for item in events:
            yield item

    written = [chunk async for chunk in _frames(source())]
    assert written == [library_frame(item) for item in events]
    assert frame(Done(turn_id="t1")) == library_frame(Done(turn_id="t1"))


async def test_every_subscriber_gets_every_event_when_one_goes_away() -> None:
    run = TurnRun("t1")
    seen: dict[str, list[Event]] = {"kept": [], "gone": []}

    async def follow(name: str) -> None:
        async for item in run.subscribe():
            seen[name].append(item)

    kept = asyncio.create_task(follow("kept"))
    gone = asyncio.create_task(follow("gone"))
    await asyncio.sleep(0)
    run.publish(Delta(turn_id="t1", text="Hello"))
    await asyncio.sleep(0)
    gone.cancel()  # a browser closing its tab while waiting for the next delta
    await asyncio.sleep(0)
    run.publish(Delta(turn_id="t1", text=" there"))
    run.publish(Done(turn_id="t1"))
    await asyncio.wait_for(kept, 1)
    assert gone.cancelled()
    assert "".join(e.text for e in seen["kept"] if isinstance(e, Delta)) == "Hello there"
    assert isinstance(seen["kept"][-1], Done)
    assert [type(e) for e in seen["gone"]] == [Delta]


async def test_a_late_subscriber_replays_with_the_deltas_coalesced() -> None:
    run = TurnRun("t1")
    for piece in ("I ", "am ", "fine."):
        run.publish(Delta(turn_id="t1", text=piece))
    run.publish(Done(turn_id="t1"))
    replay = [item async for item in run.subscribe()]
    assert replay == [Delta(turn_id="t1", text="I am fine."), Done(turn_id="t1")]


async def test_a_published_delta_reaches_its_subscriber_before_later_work() -> None:
    """Work started right after the first delta (the critique) must not run ahead of it."""
    run = TurnRun("t1")
    order: list[str] = []

    async def follow() -> None:
        async for item in run.subscribe():
            order.append(item.name)

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0)  # the subscriber is now waiting
    run.publish(Delta(turn_id="t1", text="Hi"))

    async def later_work() -> None:
        order.append("later")

    other = asyncio.create_task(later_work())
    await asyncio.gather(other, asyncio.sleep(0))
    run.publish(Done(turn_id="t1"))
    await asyncio.wait_for(follower, 1)
    assert order == ["delta", "later", "done"]


@pytest.fixture
def statements(harness: AppHarness) -> Any:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = harness.services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


async def test_a_turn_is_stored_claimed_and_its_history_read_by_path(
    harness: AppHarness, statements: list[str]
) -> None:
    await harness.sign_in()
    persona = next(iter(harness.services.personas.values())).id
    session = (await harness.start(persona))["id"]
    ids: list[str] = []
    for number in range(4):
        frames = await harness.turn(session, f"Turn {number}.", parent_id=ids[-1] if ids else None)
        ids.append(frames[0][1]["turn_id"])
    # A branch beside the path, which the next reply must not see.
    await harness.turn(session, "A different second turn.", parent_id=ids[0])

    statements.clear()
    frames = await harness.turn(session, "And now?", parent_id=ids[-1])
    assert [name for name, _ in frames][-1] == "done"
    # The turn is inserted already claimed: no separate claim UPDATE, and no read of the
    # session's whole turn list (the history comes from one recursive query on the path).
    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE"))]
    assert writes[0].startswith("INSERT INTO turns")
    assert not any("reply_attempts" in s for s in writes if s.startswith("UPDATE"))
    assert sum("WITH RECURSIVE" in s for s in statements) == 1

    database = harness.services.database
    async with database.session() as db:
        path = await repo.turn_path(db, session_id=session, turn_id=ids[-1], depth=3)
        assert [t.id for t in path] == ids[-3:]
        whole = await repo.turn_path(db, session_id=session, turn_id=ids[-1], depth=50)
        assert [t.id for t in whole] == ids
        assert await repo.turn_path(db, session_id="elsewhere", turn_id=ids[-1], depth=5) == []
        latest = await repo.get_turn(db, turn_id=frames[0][1]["turn_id"])
    assert latest is not None
    assert (latest.reply_status, latest.reply_attempts) == ("complete", 1)
    assert latest.reply_started_at is not None


async def test_a_parent_from_another_session_is_refused_before_anything_is_stored(
    harness: AppHarness,
) -> None:
    await harness.sign_in()
    persona = next(iter(harness.services.personas.values())).id
    first = (await harness.start(persona))["id"]
    other = (await harness.start(persona))["id"]
    parent = (await harness.turn(first, "Hello."))[0][1]["turn_id"]
    response = await harness.client.post(
        f"/api/sessions/{other}/turns",
        json={"text": "Hi.", "idempotency_key": "key-other-1", "parent_id": parent},
        headers=harness.headers(),
    )
    assert response.status_code == 422, response.text
    assert "not part of this session" in response.text
    assert harness.services.engine._runs == {}
    async with harness.services.database.session() as db:
        assert await repo.list_turns(db, session_id=other) == []
