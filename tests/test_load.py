"""Load without loss: many concurrent conversations against one real server process on SQLite.

Each simulated trainee signs in, opens a session and sends ten turns, each following the last,
while every other trainee does the same. Afterwards the database must hold every turn exactly
once, each with its reply and critique, and the server must have logged no error and no
"database is locked".

Sized for CI by default; `ALLIANCE_LOAD_SESSIONS=500` runs the full-size check (see the
README for its timing). `ALLIANCE_LOAD_TURNS` sets the turns per session.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import parse_sse
from tests.faults._server import Server

SESSIONS = int(os.environ.get("ALLIANCE_LOAD_SESSIONS", "40"))
TURNS = int(os.environ.get("ALLIANCE_LOAD_TURNS", "10"))
LINES = [
    "Hello, thank you for coming in. Where would you like to start?",
    "It sounds like a lot has been building up for you lately.",
    "What was that like for you, when it happened?",
    "I notice you paused just then. What came up?",
    "You said you felt alone with it. Can you say more?",
    "I wonder whether part of you expects me to judge you.",
    "That makes sense, given what you have been carrying.",
    "What would you like to be different by the end of today?",
    "I might have moved us on too quickly there. Was that all right?",
    "We have a few minutes left. How has this been for you?",
]


@dataclass
class Outcome:
    session_id: str = ""
    turn_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def converse(url: str, index: int, outcome: Outcome) -> None:
    timeout = httpx.Timeout(120.0)
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as web:
        signed = await web.post("/api/auth/dev", json={"name": f"Load Trainee {index}"})
        if signed.status_code != 200:
            outcome.problems.append(f"sign-in answered {signed.status_code}")
            return
        headers = {"X-CSRF-Token": signed.json()["csrf_token"]}
        personas = (await web.get("/api/personas")).json()
        started = await web.post(
            "/api/sessions",
            json={"persona_id": personas[index % len(personas)]["id"]},
            headers=headers,
        )
        if started.status_code != 201:
            outcome.problems.append(f"starting a session answered {started.status_code}")
            return
        outcome.session_id = started.json()["id"]
        parent: str | None = None
        for number in range(TURNS):
            response = await web.post(
                f"/api/sessions/{outcome.session_id}/turns",
                json={
                    "text": LINES[number % len(LINES)],
                    "idempotency_key": f"load-{index}-{number:03d}",
                    "parent_id": parent,
                },
                headers={**headers, "Accept": "text/event-stream"},
            )
            if response.status_code != 200:
                outcome.problems.append(f"turn {number} answered {response.status_code}")
                return
            events = parse_sse(response.text)
            kinds = [name for name, _ in events]
            if "error" in kinds or kinds.count("reply") != 1 or kinds.count("critique") != 1:
                errors = [data for name, data in events if name == "error"]
                outcome.problems.append(f"turn {number}: events {kinds} {errors}")
                return
            parent = events[0][1]["turn_id"]
            outcome.turn_ids.append(parent)


def check_database(path: Path, outcomes: list[Outcome]) -> None:
    with sqlite3.connect(path) as db:
        turns = db.execute(
            "SELECT id, session_id, parent_id, idempotency_key, reply_status, reply_text, "
            "state_after FROM turns"
        ).fetchall()
        critiques = db.execute("SELECT turn_id FROM critiques").fetchall()
    assert len(turns) == SESSIONS * TURNS
    assert len({(t[1], t[3]) for t in turns}) == len(turns)  # every turn stored exactly once
    assert all(t[4] == "complete" and t[5] and t[6] for t in turns)
    assert sorted(c[0] for c in critiques) == sorted(t[0] for t in turns)
    by_session: dict[str, list[tuple[str, str | None]]] = {}
    for turn_id, session_id, parent_id, *_ in turns:
        by_session.setdefault(session_id, []).append((turn_id, parent_id))
    for outcome in outcomes:
        # Each conversation is one chain, in the order the trainee sent it.
        chain = {parent: turn for turn, parent in by_session[outcome.session_id]}
        walked, current = [], chain.get(None)
        while current is not None:
            walked.append(current)
            current = chain.get(current)
        assert walked == outcome.turn_ids


async def test_concurrent_sessions_lose_nothing(tmp_path: Path) -> None:
    database = tmp_path / "load.db"
    server = Server(
        tmp_path,
        {
            "ALLIANCE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "5",
        },
    )
    try:
        outcomes = [Outcome() for _ in range(SESSIONS)]
        began = time.monotonic()
        await asyncio.gather(*(converse(server.url, i, o) for i, o in enumerate(outcomes)))
        elapsed = time.monotonic() - began
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    problems = [p for o in outcomes for p in o.problems]
    assert not problems, problems[:10]
    assert "database is locked" not in log
    assert "Traceback" not in log
    check_database(database, outcomes)
    print(f"\n{SESSIONS} sessions x {TURNS} turns in {elapsed:.1f} s")
