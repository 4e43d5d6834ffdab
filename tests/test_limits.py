"""Cost and fairness: daily token budgets, replies at once per user, and a cacheable prompt."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.limits import TurnLimits, start_of_day
from app.llm.base import ChatRequest, JsonCompletion, StreamChunk, Usage
from app.storage import repo
from app.storage.tables import CritiqueRecord, Turn
from tests.conftest import AppHarness
from tests.doubles import FunctionModel, words


async def post_turn(h: AppHarness, session_id: str, text: str, key: str | None = None) -> Any:
    return await h.client.post(
        f"/api/sessions/{session_id}/turns",
        json={"text": text, "idempotency_key": key or uuid.uuid4().hex},
        headers={**h.headers(), "Accept": "text/event-stream"},
    )


async def turn_count(h: AppHarness, session_id: str) -> int:
    async with h.services.database.session() as db:
        count = await db.scalar(
            select(func.count()).select_from(Turn).where(Turn.session_id == session_id)
        )
    return int(count or 0)


async def reply(request: ChatRequest) -> AsyncIterator[StreamChunk]:
    async for chunk in words("I suppose that is true."):
        yield chunk  # usage: 100 tokens in, 5 out


async def test_daily_budget_refuses_before_storing_and_says_when(make_harness: Any) -> None:
    model = FunctionModel(stream=reply)
    async with make_harness(client_model=model, daily_token_budget=200) as h:
        await h.sign_in()
        session = (await h.start(next(iter(h.services.personas))))["id"]
        first = await post_turn(h, session, "Hello.", key="budget-key-0001")
        second = await post_turn(h, session, "Go on.")
        assert first.status_code == second.status_code == 200
        refused = await post_turn(h, session, "What happened next, do you think?")
        assert refused.status_code == 429
        body = refused.json()
        assert body["kind"] == "limit_reached"
        assert "today's practice allowance (200 tokens)" in body["detail"]
        assert "midnight UTC" in body["detail"]
        assert "kept in the message box" in body["detail"]
        wait = int(refused.headers["retry-after"])
        tomorrow = start_of_day(datetime.now(UTC)) + timedelta(days=1)
        assert 0 < wait <= (tomorrow - datetime.now(UTC)).total_seconds() + 1
        # Nothing was stored and the model was not asked.
        assert await turn_count(h, session) == 2
        assert len(model.requests) == 2
        # A repeated request for a turn that exists is still answered: nothing new is spent.
        again = await post_turn(h, session, "Hello.", key="budget-key-0001")
        assert again.status_code == 200
        assert await turn_count(h, session) == 2


async def test_usage_before_today_does_not_count(make_harness: Any) -> None:
    async with make_harness(client_model=FunctionModel(stream=reply)) as h:
        await h.sign_in()
        session = (await h.start(next(iter(h.services.personas))))["id"]
        await post_turn(h, session, "Hello.")
        await post_turn(h, session, "And then?")
        limits = TurnLimits(daily_token_budget=1, max_concurrent_turns=0, turn_max_seconds=60)
        async with h.services.database.session() as db:
            row = await repo.get_practice_session(db, session_id=session)
            assert row is not None
            user_id = row.user_id
            now = datetime.now(UTC)
            assert await limits.tokens_today(db, user_id=user_id, now=now) == 210
            await db.execute(
                update(Turn)
                .where(Turn.id.in_(select(Turn.id).where(Turn.session_id == session).limit(1)))
                .values(created_at=start_of_day(now) - timedelta(minutes=1))
            )
            await db.commit()
            assert await limits.tokens_today(db, user_id=user_id, now=now) == 105
            assert await limits.tokens_today(db, user_id=uuid.uuid4().hex, now=now) == 0


async def test_the_evaluators_tokens_count_toward_the_budget_too(make_harness: Any) -> None:
    attempts: list[int] = []

    async def judge(request: ChatRequest) -> JsonCompletion:
        from app.evaluator import heuristic

        attempts.append(1)
        if len(attempts) == 1:  # the first answer is broken: the repair attempt costs too
            return JsonCompletion(text="{not json", usage=Usage(300, 20, 0))
        return JsonCompletion(
            text=heuristic.judge(request.scene).model_dump_json(), usage=Usage(400, 80, 100)
        )

    async with make_harness(
        client_model=FunctionModel(stream=reply),
        evaluator_model=FunctionModel(complete_json=judge),
        daily_token_budget=900,
    ) as h:
        await h.sign_in()
        session = (await h.start(next(iter(h.services.personas))))["id"]
        first = await post_turn(h, session, "Hello, what brings you here today?")
        assert first.status_code == 200
        async with h.services.database.session() as db:
            stored = await db.get(
                CritiqueRecord, (await repo.list_turns(db, session_id=session))[0].id
            )
            assert stored is not None
            assert (stored.input_tokens, stored.output_tokens, stored.cached_tokens) == (
                700,
                100,
                100,
            )
            row = await repo.get_practice_session(db, session_id=session)
            assert row is not None
            limits = TurnLimits(daily_token_budget=1, max_concurrent_turns=0, turn_max_seconds=60)
            # 105 for the reply, 800 for the critique and its repair.
            assert await limits.tokens_today(db, user_id=row.user_id, now=datetime.now(UTC)) == 905
        refused = await post_turn(h, session, "Go on.")
        assert refused.status_code == 429


async def test_one_user_may_not_run_more_replies_at_once_than_allowed(make_harness: Any) -> None:
    release, started = asyncio.Event(), asyncio.Event()

    async def slow(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        yield StreamChunk(text="Well...")
        started.set()
        await release.wait()
        yield StreamChunk(usage=Usage(input_tokens=10, output_tokens=1), finish_reason="stop")

    async with make_harness(client_model=FunctionModel(stream=slow), max_concurrent_turns=1) as h:
        await h.sign_in()
        persona = next(iter(h.services.personas))
        one, other = (await h.start(persona))["id"], (await h.start(persona))["id"]
        running = asyncio.create_task(post_turn(h, one, "Take your time."))
        await asyncio.wait_for(started.wait(), 5)
        refused = await post_turn(h, other, "Meanwhile, in another session...")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "5"
        assert "1 reply being written" in refused.json()["detail"]
        assert await turn_count(h, other) == 0
        release.set()
        assert (await running).status_code == 200
        # Once the reply is finished the next turn is welcome.
        assert (await post_turn(h, other, "Now then.")).status_code == 200


async def test_an_abandoned_reply_stops_counting_as_running(make_harness: Any) -> None:
    async with make_harness(client_model=FunctionModel(stream=reply)) as h:
        await h.sign_in()
        session = (await h.start(next(iter(h.services.personas))))["id"]
        await post_turn(h, session, "Hello.")
        limits = TurnLimits(daily_token_budget=0, max_concurrent_turns=1, turn_max_seconds=60)
        async with h.services.database.session() as db:
            user_id = (await repo.get_practice_session(db, session_id=session)).user_id  # type: ignore[union-attr]
            now = datetime.now(UTC)
            await db.execute(update(Turn).values(reply_status="streaming", reply_started_at=now))
            await db.commit()
            assert await limits.replies_running(db, user_id=user_id, now=now) == 1
            later = now + limits.stale_after + timedelta(seconds=1)
            assert await limits.replies_running(db, user_id=user_id, now=later) == 0


async def test_consecutive_turns_share_a_long_identical_prompt_prefix(make_harness: Any) -> None:
    """Provider prompt caches reuse an identical prefix: the clock must not sit inside it."""
    model = FunctionModel(stream=reply)
    async with make_harness(client_model=model) as h:
        await h.sign_in()
        session = (await h.start(next(iter(h.services.personas))))["id"]
        events = await h.turn(session, "Hello, where would you like to begin?")
        parent = next(d["turn_id"] for n, d in events if n == "turn")
        await h.turn(session, "That sounds like a lot to carry.", parent_id=parent)
    first, second = ([(m.role, m.content) for m in request.messages] for request in model.requests)
    # The second request repeats the first one's system prompt and conversation exactly; only
    # the note on the moment and the newest words differ, and they come last.
    shared = first[:-2]
    assert second[: len(shared)] == shared
    assert len("".join(content for _, content in shared)) > 2000
    assert first[-2][0] == second[-2][0] == "system"
    assert "minutes of a" in first[-2][1]
    assert "minutes of a" not in first[0][1]
    assert first[-1] == ("user", "Hello, where would you like to begin?")
    # No ids or times in the stable part.
    assert session not in first[0][1]
    assert str(datetime.now(UTC).year) not in first[0][1]


async def test_a_reply_running_past_the_limit_is_stopped_and_retryable(make_harness: Any) -> None:
    """Other replicas rely on this bound to tell a dead replica's turn from a live one."""

    async def endless(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        yield StreamChunk(text="Well, it's just that")
        await asyncio.sleep(3600)
        yield StreamChunk(text=" never.")  # pragma: no cover

    async with make_harness(client_model=FunctionModel(stream=endless)) as h:
        engine = h.services.engine
        engine.config = replace(engine.config, turn_max_seconds=0.5)
        await h.sign_in()
        session = (await h.start(next(iter(h.services.personas))))["id"]
        events = await asyncio.wait_for(h.turn(session, "Go on."), 10)
        read = (await h.client.get(f"/api/sessions/{session}")).json()
    error = next(data for name, data in events if name == "error")
    assert error["kind"] == "llm_timeout"
    assert error["retryable"] is True
    assert "took longer than 0.5 s" in error["message"]
    assert [t["reply_status"] for t in read["turns"]] == ["failed"]
    assert read["turns"][0]["trainee_text"] == "Go on."
