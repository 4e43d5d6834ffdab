"""The service killed with SIGKILL mid-reply, then started again on the same database.

No shutdown code runs on SIGKILL, so this is the honest test of "the trainee's words are never
lost": after the restart the turn reads back as interrupted and retryable, and a retry completes
it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import parse_sse

from ._server import Server

TEXT = "I can hear how tiring it has been to keep everyone else afloat. What do you need today?"


def stored_turn(path: Path) -> dict[str, Any]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(row) for row in db.execute("SELECT * FROM turns")]
    assert len(rows) == 1
    return rows[0]


async def test_sigkill_mid_reply_leaves_a_retryable_turn(tmp_path: Path) -> None:
    database = tmp_path / "alliance.db"
    env = {"ALLIANCE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    first = Server(tmp_path, {**env, "ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "400"})
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=10) as web:
            signed = await web.post("/api/auth/dev", json={"name": "Kill Test"})
            headers = {"X-CSRF-Token": signed.json()["csrf_token"]}
            personas = (await web.get("/api/personas")).json()
            session = await web.post(
                "/api/sessions", json={"persona_id": personas[0]["id"]}, headers=headers
            )
            session_id = session.json()["id"]
            seen = ""
            async with web.stream(
                "POST",
                f"/api/sessions/{session_id}/turns",
                json={"text": TEXT, "idempotency_key": "kill-test-0001"},
                headers={**headers, "Accept": "text/event-stream"},
            ) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    seen += line + "\n"
                    if line.startswith("event: delta"):
                        first.kill()  # mid-reply: the first words are out, the rest are not
                        break
            cookies = dict(web.cookies)
        assert "event: turn" in seen
        at_kill = stored_turn(database)
        assert at_kill["trainee_text"] == TEXT
        assert at_kill["reply_status"] == "streaming"
        assert at_kill["reply_text"] is None
    finally:
        first.stop()

    second = Server(tmp_path, {**env, "ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "0"})
    try:
        async with httpx.AsyncClient(base_url=second.url, cookies=cookies, timeout=10) as web:
            turn_id = at_kill["id"]
            follow = await web.get(f"/api/sessions/{session_id}/turns/{turn_id}/events")
            assert follow.status_code == 200
            events = parse_sse(follow.text)
            assert events[0][0] == "turn"
            assert events[0][1]["trainee_text"] == TEXT
            error = next(data for name, data in events if name == "error")
            assert error["kind"] == "llm_interrupted"
            assert error["retryable"] is True
            assert "Your words are saved: try again" in error["message"]

            read = (await web.get(f"/api/sessions/{session_id}")).json()["turns"]
            assert len(read) == 1
            assert read[0]["trainee_text"] == TEXT
            assert read[0]["reply_status"] == "failed"
            assert read[0]["error"]["retryable"] is True

            retry = await web.post(
                f"/api/sessions/{session_id}/turns/{turn_id}/retry",
                headers={"X-CSRF-Token": headers["X-CSRF-Token"]},
            )
            assert retry.status_code == 200
            again = parse_sse(retry.text)
            reply = next(data for name, data in again if name == "reply")
            assert reply["text"]
            assert "error" not in [name for name, _ in again]

            final = (await web.get(f"/api/sessions/{session_id}")).json()["turns"]
            assert [(t["reply_status"], t["reply"]) for t in final] == [("complete", reply["text"])]
        after = stored_turn(database)
        assert after["trainee_text"] == TEXT
        assert after["reply_attempts"] == 2
        assert after["error_kind"] is None
    finally:
        second.stop()


async def test_after_sigkill_the_session_reads_as_interrupted_before_any_follow(
    tmp_path: Path,
) -> None:
    """The practice room reloads the session (and its tree) before it follows any turn: the
    killed turn must already read as retryable there, not as a reply still streaming."""
    database = tmp_path / "alliance.db"
    env = {"ALLIANCE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    first = Server(tmp_path, {**env, "ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "400"})
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=10) as web:
            signed = await web.post("/api/auth/dev", json={"name": "Kill Test"})
            headers = {"X-CSRF-Token": signed.json()["csrf_token"]}
            personas = (await web.get("/api/personas")).json()
            session = await web.post(
                "/api/sessions", json={"persona_id": personas[0]["id"]}, headers=headers
            )
            session_id = session.json()["id"]
            async with web.stream(
                "POST",
                f"/api/sessions/{session_id}/turns",
                json={"text": TEXT, "idempotency_key": "kill-read-0001"},
                headers={**headers, "Accept": "text/event-stream"},
            ) as response:
                async for line in response.aiter_lines():
                    if line.startswith("event: delta"):
                        first.kill()
                        break
            cookies = dict(web.cookies)
        assert stored_turn(database)["reply_status"] == "streaming"
    finally:
        first.stop()

    second = Server(tmp_path, {**env, "ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "0"})
    try:
        async with httpx.AsyncClient(base_url=second.url, cookies=cookies, timeout=10) as web:
            read = (await web.get(f"/api/sessions/{session_id}")).json()["turns"]
            tree = (await web.get(f"/api/sessions/{session_id}/turns")).json()["turns"]
        for turns in (read, tree):
            assert [(t["trainee_text"], t["reply_status"]) for t in turns] == [(TEXT, "failed")]
            assert turns[0]["error"]["retryable"] is True
        stored = stored_turn(database)
        assert (stored["reply_status"], stored["error_kind"]) == ("failed", "llm_interrupted")
    finally:
        second.stop()
