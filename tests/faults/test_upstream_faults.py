"""The fault campaign: a real HTTP API in front of an OpenAI-compatible upstream that fails.

For every fault the trainee's words are stored, the event stream ends with a message a trainee
can act on (or with the finished turn when a retry inside the adapter absorbed the fault), a
retry succeeds once the upstream recovers, the database holds exactly one coherent turn with at
most one critique, and no request answers 500.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import select

from app.settings import ClientRoleSettings
from app.storage.tables import CritiqueRecord, Turn
from tests.conftest import AppHarness, parse_sse

from ._upstream import (
    CLIENT_URL,
    JUDGE_URL,
    RECORDED_TEXT,
    SECRET,
    Behaviour,
    Upstream,
    client_settings,
    head,
    json_reply,
    judge_settings,
    status,
    stream,
)

Events = list[tuple[str, dict[str, Any]]]
TRAINEE_TEXT = "It sounds like this week asked a lot of you. Where would you like to begin?"
# Every message shown to a trainee says what to do next.
ACTIONS = ("try again", "wait", "administrator")


def names(events: Events) -> list[str]:
    return [name for name, _ in events]


def one(events: Events, name: str) -> dict[str, Any]:
    found = [data for event, data in events if event == name]
    assert len(found) == 1, (name, names(events))
    return found[0]


def assert_actionable(message: str) -> None:
    assert message.strip()
    assert any(action in message.lower() for action in ACTIONS), message
    for leak in (SECRET, "Traceback", "httpx", "Error(", "/chat/completions"):
        assert leak not in message, message


@dataclass
class Fault:
    """One way the upstream can fail, and what the trainee must see."""

    name: str
    faults: list[Behaviour]
    kind: str | None  # None: the adapter's own retry absorbs the fault and the turn finishes
    retryable: bool = True
    says: str = ""
    calls: int = 1  # calls the failing turn makes to the upstream
    settings: dict[str, Any] = field(default_factory=dict)
    waits: list[float] | None = None  # retry waits the adapter must have chosen


FAULTS = [
    Fault(
        "401",
        [status(401)],
        "llm_auth",
        retryable=False,
        says="rejected the API key",
        settings={"max_retries": 2},
    ),
    Fault(
        "429-retry-after-exhausted",
        [status(429, **{"Retry-After": "7"})] * 2,
        "llm_rate_limited",
        says="Wait 7 seconds",
        calls=2,
        settings={"max_retries": 1},
        waits=[7.0],
    ),
    Fault(
        "429-retry-after-absorbed",
        [status(429, **{"Retry-After": "3"})],
        None,
        calls=2,
        settings={"max_retries": 1},
        waits=[3.0],
    ),
    Fault(
        "500",
        [status(500)] * 3,
        "llm_unavailable",
        says="(HTTP 500)",
        calls=3,
        settings={"max_retries": 2},
    ),
    Fault("503", [status(503)], "llm_unavailable", says="(HTTP 503)"),
    Fault(
        "timeout-before-first-token",
        [stream([5.0])],
        "llm_timeout",
        says="did not start answering",
    ),
    Fault(
        "stall-mid-stream",
        [stream([*head("I"), 5.0])],
        "llm_timeout",
        says="part-way through",
    ),
    Fault(
        "reset-mid-stream",
        [stream([*head("I"), httpx.ReadError("Connection reset by peer")])],
        "llm_interrupted",
        says="broke off",
        settings={"max_retries": 2},
    ),
    Fault(
        "malformed-line-before-text",
        [stream([b'data: {"choices": [{"delta": {"content": "x"\n\n'])],
        "llm_bad_response",
        retryable=False,
        says="could not be read",
        settings={"max_retries": 2},
    ),
    Fault(
        "malformed-line-mid-stream",
        [stream([*head("I"), b"data: {not json at all\n\n"])],
        "llm_interrupted",
        says="broke off",
    ),
]


async def post_turn(h: AppHarness, session_id: str) -> httpx.Response:
    return await h.client.post(
        f"/api/sessions/{session_id}/turns",
        json={"text": TRAINEE_TEXT, "idempotency_key": "fault-campaign-key-1"},
        headers={**h.headers(), "Accept": "text/event-stream"},
    )


async def post_retry(h: AppHarness, session_id: str, turn_id: str) -> httpx.Response:
    return await h.client.post(
        f"/api/sessions/{session_id}/turns/{turn_id}/retry", headers=h.headers()
    )


async def stored(h: AppHarness) -> tuple[list[Turn], list[CritiqueRecord]]:
    async with h.services.database.session() as db:
        turns = list(await db.scalars(select(Turn)))
        critiques = list(await db.scalars(select(CritiqueRecord)))
    return turns, critiques


async def assert_failed_consistently(h: AppHarness, fault: Fault, error: dict[str, Any]) -> None:
    turns, critiques = await stored(h)
    assert len(turns) == 1
    turn = turns[0]
    assert turn.trainee_text == TRAINEE_TEXT
    assert turn.reply_status == "failed"
    assert turn.reply_text is None
    assert turn.error_kind == fault.kind
    assert turn.error_message == error["message"]
    assert turn.error_retryable is fault.retryable
    assert turn.reply_finished_at is not None
    # The critique of the trainee's words does not depend on the reply, and belongs to the turn.
    assert [c.turn_id for c in critiques] == [turn.id]


async def assert_completed_consistently(h: AppHarness, *, attempts: int) -> None:
    turns, critiques = await stored(h)
    assert len(turns) == 1
    turn = turns[0]
    assert turn.trainee_text == TRAINEE_TEXT
    assert turn.reply_status == "complete"
    assert turn.reply_text == RECORDED_TEXT.strip()
    assert turn.reply_attempts == attempts
    assert (turn.error_kind, turn.error_message, turn.error_retryable) == (None, None, None)
    assert turn.client_state is not None
    assert turn.state_after is not None
    assert [c.turn_id for c in critiques] == [turn.id]


def assert_finished(events: Events) -> None:
    order = names(events)
    assert order[0] == "turn"
    assert order[-1] == "done"
    assert "error" not in order, events
    assert one(events, "reply")["text"] == RECORDED_TEXT.strip()
    assert "".join(d["text"] for n, d in events if n == "delta").strip() == RECORDED_TEXT.strip()
    assert one(events, "critique")["critique"]["source"] == "offline"


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
async def test_upstream_fault_keeps_the_turn_and_retry_recovers(
    fault: Fault,
    make_harness: Any,
    respx_mock: respx.MockRouter,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream = Upstream(respx_mock, CLIENT_URL)
    upstream.fail_with(*fault.faults)
    async with make_harness(client=client_settings(**fault.settings)) as h:
        await h.sign_in()
        persona = next(iter(h.services.personas))
        session = (await h.start(persona))["id"]

        response = await post_turn(h, session)
        assert response.status_code == 200
        events = parse_sse(response.text)
        assert upstream.calls == fault.calls
        if fault.waits is not None:
            assert sleeps == fault.waits
        turn = one(events, "turn")
        assert turn["trainee_text"] == TRAINEE_TEXT
        read = await h.client.get(f"/api/sessions/{session}")
        assert read.status_code == 200

        if fault.kind is None:
            assert_finished(events)
            await assert_completed_consistently(h, attempts=1)
            again = await post_retry(h, session, turn["turn_id"])
            assert again.status_code == 409
            assert_actionable(again.json()["detail"] + " Try again")  # a plain conflict notice
            return

        order = names(events)
        assert order[0] == "turn"
        assert order[-1] == "done"
        assert "reply" not in order
        error = one(events, "error")
        assert error["stage"] == "reply"
        assert error["turn_id"] == turn["turn_id"]
        assert error["kind"] == fault.kind
        assert error["retryable"] is fault.retryable
        assert fault.says in error["message"]
        assert_actionable(error["message"])
        assert one(events, "critique")["critique"]["source"] == "offline"
        await assert_failed_consistently(h, fault, error)
        shown = read.json()["turns"]
        assert [t["reply_status"] for t in shown] == ["failed"]
        assert shown[0]["trainee_text"] == TRAINEE_TEXT
        assert shown[0]["error"] == {"message": error["message"], "retryable": fault.retryable}

        # The same request again (a browser resending) replays the stored failure, no new call.
        repeat = await post_turn(h, session)
        assert repeat.status_code == 200
        assert one(parse_sse(repeat.text), "error")["message"] == error["message"]
        assert upstream.calls == fault.calls

        # The upstream has recovered: the retry completes the same turn, keeping its critique.
        retried = await post_retry(h, session, turn["turn_id"])
        assert retried.status_code == 200
        again = parse_sse(retried.text)
        assert_finished(again)
        assert one(again, "turn")["turn_id"] == turn["turn_id"]
        assert one(again, "critique")["critique"] == one(events, "critique")["critique"]
        await assert_completed_consistently(h, attempts=2)
        final = (await h.client.get(f"/api/sessions/{session}")).json()["turns"]
        assert [(t["reply_status"], t["error"]) for t in final] == [("complete", None)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_refused_connection_then_recovery(
    make_harness: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A real refused connection (nothing listens on the port), then the server comes back."""
    base = f"http://127.0.0.1:{closed_port()}/v1"
    settings: ClientRoleSettings = client_settings(base_url=base, max_retries=1)
    async with make_harness(client=settings) as h:
        await h.sign_in()
        session = (await h.start(next(iter(h.services.personas))))["id"]
        response = await post_turn(h, session)
        assert response.status_code == 200
        events = parse_sse(response.text)
        error = one(events, "error")
        assert error["kind"] == "llm_unavailable"
        assert error["retryable"] is True
        assert "Could not reach the model server at 127.0.0.1" in error["message"]
        assert_actionable(error["message"])
        fault = Fault("refused", [], "llm_unavailable")
        await assert_failed_consistently(h, fault, error)

        with respx.mock(assert_all_called=True) as mock:
            upstream = Upstream(mock, base)
            retried = await post_retry(h, session, one(events, "turn")["turn_id"])
            assert retried.status_code == 200
            assert_finished(parse_sse(retried.text))
            assert upstream.calls == 1
        await assert_completed_consistently(h, attempts=2)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


JUDGE_FAULTS: dict[str, Callable[[], list[Behaviour]]] = {
    "not-json": lambda: [json_reply("I think the counsellor did well {")] * 2,
    "wrong-schema": lambda: [json_reply('{"moment": "x", "recognition": {"score": 9}}')] * 2,
    "judge-503": lambda: [status(503)],
}


@pytest.mark.parametrize("judge_fault", list(JUDGE_FAULTS))
async def test_invalid_judge_output_falls_back_and_recovers(
    judge_fault: str,
    make_harness: Any,
    respx_mock: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The turn finishes with the offline judge's critique, marked as a fallback; when the
    judge recovers, the next turn gets its critique."""
    from app.evaluator import heuristic
    from app.evaluator.schema import JudgeInput

    client = Upstream(respx_mock, CLIENT_URL)

    def good_judge(request: httpx.Request) -> httpx.Response:
        # A valid critique, as a judge model would write it.
        assert json.loads(request.content)["messages"]
        sample = heuristic.judge(
            JudgeInput(
                persona_summary="a client",
                attachment_style="secure",
                transcript=[("client", "Hello.")],
                client_last="Hello.",
                trainee_text=TRAINEE_TEXT,
                minutes_elapsed=1.0,
                planned_minutes=50,
            )
        )
        return json_reply(sample.model_dump_json())(request)

    judge = Upstream(respx_mock, JUDGE_URL, healthy=good_judge)
    judge.fail_with(*JUDGE_FAULTS[judge_fault]())
    async with make_harness(client=client_settings(), evaluator=judge_settings()) as h:
        await h.sign_in()
        session = (await h.start(next(iter(h.services.personas))))["id"]
        events = parse_sse((await post_turn(h, session)).text)
        assert "error" not in names(events)
        assert one(events, "reply")["text"] == RECORDED_TEXT.strip()
        critique = one(events, "critique")["critique"]
        assert critique["source"] == "offline_fallback"
        await assert_completed_consistently(h, attempts=1)
        turn_id = one(events, "turn")["turn_id"]
        again = await post_retry(h, session, turn_id)
        assert again.status_code == 409
        assert "already has a reply" in again.json()["detail"]

        follow = await h.client.post(
            f"/api/sessions/{session}/turns",
            # The same words again: the healthy judge's critique quotes them as its evidence.
            json={"text": TRAINEE_TEXT, "idempotency_key": "fault-next-2", "parent_id": turn_id},
            headers=h.headers(),
        )
        assert follow.status_code == 200
        assert one(parse_sse(follow.text), "critique")["critique"]["source"] == "llm"
        _, critiques = await stored(h)
        assert len(critiques) == 2
    assert client.calls == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
