"""Tutor review, the audit log, agreement statistics, personal export and deletion, retention."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.cli import main as cli_main
from app.main import create_app
from app.retention import apply_retention
from app.settings import Settings
from app.storage import repo
from app.storage.tables import AuditEntry, PracticeSession, User

TRAINEE_WORDS = "It sounds like this week has been heavy for you."


class Person:
    def __init__(self, app: FastAPI) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        )
        self.csrf = ""
        self.id = ""

    async def sign_in(self, name: str, role: str, cohort: str | None) -> Person:
        body = await self.client.post(
            "/api/auth/dev", json={"name": name, "role": role, "cohort": cohort}
        )
        assert body.status_code == 200, body.text
        self.csrf = body.json()["csrf_token"]
        self.id = body.json()["user"]["id"]
        return self

    def h(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    async def practise(self, persona_id: str, turns: int) -> str:
        started = await self.client.post(
            "/api/sessions", json={"persona_id": persona_id}, headers=self.h()
        )
        assert started.status_code == 201, started.text
        session_id: str = started.json()["id"]
        texts = [TRAINEE_WORDS, "What would you like us to focus on?", "I notice you paused."]
        for i in range(turns):
            sent = await self.client.post(
                f"/api/sessions/{session_id}/turns",
                json={"text": texts[i % 3], "idempotency_key": uuid.uuid4().hex},
                headers=self.h(),
            )
            assert sent.status_code == 200
        return session_id


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def people(app: FastAPI) -> AsyncIterator[dict[str, Person]]:
    cast = {
        "ana": await Person(app).sign_in("Ana", "trainee", "monday"),
        "ben": await Person(app).sign_in("Ben", "trainee", "friday"),
        "tia": await Person(app).sign_in("Tia", "tutor", "monday"),
        "ted": await Person(app).sign_in("Ted", "tutor", "friday"),
        "amy": await Person(app).sign_in("Amy", "admin", None),
    }
    yield cast
    for person in cast.values():
        await person.client.aclose()


async def persona_id(person: Person) -> str:
    found: str = (await person.client.get("/api/personas")).json()[0]["id"]
    return found


async def test_dashboard_shows_only_the_tutors_cohorts(people: dict[str, Person]) -> None:
    pid = await persona_id(people["ana"])
    ana_session = await people["ana"].practise(pid, 2)
    ben_session = await people["ben"].practise(pid, 1)
    tia = people["tia"].client
    cohorts = (await tia.get("/api/review/cohorts")).json()
    assert [(c["name"], c["trainees"]) for c in cohorts] == [("monday", 1)]
    rows = (await tia.get("/api/review/sessions")).json()
    assert [r["id"] for r in rows] == [ana_session]
    row = rows[0]
    assert row["trainee_name"] == "Ana"
    assert row["persona_id"] == pid
    assert row["critiqued_turns"] == 2
    assert set(row["scores"]) == {
        "recognition",
        "authenticity",
        "collaboration",
        "power_awareness",
        "boundaries",
    }
    by_cohort = await tia.get("/api/review/sessions", params={"cohort_id": cohorts[0]["id"]})
    assert [r["id"] for r in by_cohort.json()] == [ana_session]
    ted_cohort = (await people["ted"].client.get("/api/review/cohorts")).json()[0]["id"]
    foreign = await tia.get("/api/review/sessions", params={"cohort_id": ted_cohort})
    assert foreign.status_code == 404
    everyone = (await people["amy"].client.get("/api/review/sessions")).json()
    assert {r["id"] for r in everyone} == {ana_session, ben_session}
    refused = await people["ana"].client.get("/api/review/sessions")
    assert refused.status_code == 403


async def test_review_comments_overrides_and_what_the_trainee_sees(
    people: dict[str, Person],
) -> None:
    pid = await persona_id(people["ana"])
    session_id = await people["ana"].practise(pid, 2)
    tia = people["tia"]
    transcript = (await tia.client.get(f"/api/review/sessions/{session_id}")).json()
    assert transcript["can_review"] is True
    first = transcript["turns"][0]
    assert first["trainee_text"] == TRAINEE_WORDS
    assert first["critique"] is not None
    assert first["client_state"] is not None  # the state that produced the reply
    assert "trust" in first["client_state"]
    ai_score = first["critique"]["recognition"]["score"]

    url = f"/api/review/sessions/{session_id}/turns/{first['id']}"
    comment = await tia.client.post(
        url + "/comments", json={"text": "Good reflection."}, headers=tia.h()
    )
    assert comment.status_code == 201
    empty = await tia.client.post(url + "/comments", json={"text": "   "}, headers=tia.h())
    assert empty.status_code == 422
    assert "write the comment" in empty.json()["detail"]
    tutor_score = 3 if ai_score != 3 else 0
    rated = await tia.client.put(
        url + "/ratings/recognition", json={"score": tutor_score, "note": "Warmer"}, headers=tia.h()
    )
    assert rated.status_code == 200
    assert rated.json()["ai_score"] == ai_score
    again = await tia.client.put(
        url + "/ratings/recognition", json={"score": None, "note": "N/A"}, headers=tia.h()
    )
    assert again.json()["score"] is None  # one override per turn and dimension, updated
    bad = await tia.client.put(url + "/ratings/empathy", json={"score": 1}, headers=tia.h())
    assert bad.status_code == 422
    assert "recognition" in bad.json()["detail"]
    out_of_range = await tia.client.put(
        url + "/ratings/recognition", json={"score": 7}, headers=tia.h()
    )
    assert out_of_range.status_code == 422

    # The trainee sees the comment and the override beside the AI's critique, not the state.
    mine = (await people["ana"].client.get(f"/api/review/sessions/{session_id}")).json()
    assert mine["can_review"] is False
    turn = mine["turns"][0]
    assert turn["client_state"] is None
    assert [c["text"] for c in turn["comments"]] == ["Good reflection."]
    assert turn["comments"][0]["author"] == "Tia"
    assert turn["overrides"][0]["ai_score"] == ai_score
    assert turn["critique"]["recognition"]["score"] == ai_score  # the AI's rating is kept

    # The trainee cannot annotate their own session; another cohort's tutor cannot see it.
    own = await people["ana"].client.post(
        url + "/comments", json={"text": "me"}, headers=people["ana"].h()
    )
    assert own.status_code == 404
    ted = people["ted"]
    other = await ted.client.post(url + "/comments", json={"text": "x"}, headers=ted.h())
    assert other.status_code == 404


async def test_agreement_between_tutor_and_ai(people: dict[str, Person]) -> None:
    pid = await persona_id(people["ana"])
    session_id = await people["ana"].practise(pid, 3)
    tia = people["tia"]
    turns = (await tia.client.get(f"/api/review/sessions/{session_id}")).json()["turns"]
    ai = [t["critique"]["authenticity"]["score"] for t in turns]
    # Agree on the first two turns, disagree on the third.
    mine = [ai[0], ai[1], (ai[2] + 2) % 4 if ai[2] is not None else 1]
    for turn, score in zip(turns, mine, strict=True):
        answer = await tia.client.put(
            f"/api/review/sessions/{session_id}/turns/{turn['id']}/ratings/authenticity",
            json={"score": score},
            headers=tia.h(),
        )
        assert answer.status_code == 200
    stats = {d["dimension"]: d for d in (await tia.client.get("/api/review/agreement")).json()}
    auth = stats["authenticity"]
    assert auth["turns"] == 3
    both = [(a, t) for a, t in zip(ai, mine, strict=True) if a is not None and t is not None]
    assert auth["both_scored"] == len(both)
    assert auth["exact_agreement"] == pytest.approx(sum(a == t for a, t in both) / len(both))
    assert stats["recognition"]["turns"] == 0
    assert stats["recognition"]["weighted_kappa"] is None
    # Ted's cohort has no overrides: his statistics are empty.
    ted = {
        d["dimension"]: d for d in (await people["ted"].client.get("/api/review/agreement")).json()
    }
    assert ted["authenticity"]["turns"] == 0


async def test_every_read_by_someone_else_is_audited(
    app: FastAPI, people: dict[str, Person]
) -> None:
    pid = await persona_id(people["ana"])
    session_id = await people["ana"].practise(pid, 1)
    await people["ana"].client.get(f"/api/sessions/{session_id}")  # the owner: not audited
    await people["tia"].client.get(f"/api/review/sessions/{session_id}")
    await people["amy"].client.get(f"/api/sessions/{session_id}")
    await people["ted"].client.get(f"/api/sessions/{session_id}")  # refused: nothing read
    async with app.state.services.database.session() as db:
        entries = list(await db.scalars(repo.select(AuditEntry).order_by(AuditEntry.created_at)))
    assert [(e.actor_id, e.actor_role, e.owner_id, e.session_id) for e in entries] == [
        (people["tia"].id, "tutor", people["ana"].id, session_id),
        (people["amy"].id, "admin", people["ana"].id, session_id),
    ]
    assert entries[0].action == "GET /api/review/sessions/{session_id}"
    log = (await people["amy"].client.get("/api/admin/audit")).json()
    assert [(e["reader"], e["owner"]) for e in log] == [("Amy", "Ana"), ("Tia", "Ana")]
    assert (await people["tia"].client.get("/api/admin/audit")).status_code == 403


async def test_export_and_delete_my_data(app: FastAPI, people: dict[str, Person]) -> None:
    ana = people["ana"]
    session_id = await ana.practise(await persona_id(ana), 1)
    turn = (await ana.client.get(f"/api/sessions/{session_id}")).json()["turns"][0]
    tia = people["tia"]
    await tia.client.post(
        f"/api/review/sessions/{session_id}/turns/{turn['id']}/comments",
        json={"text": "Lovely pacing."},
        headers=tia.h(),
    )
    export = await ana.client.get("/api/me/export")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    data = export.json()
    assert data["user"]["display_name"] == "Ana"
    exported_turn = data["sessions"][0]["turns"][0]
    assert exported_turn["trainee_text"] == TRAINEE_WORDS
    assert exported_turn["critique"] is not None
    assert exported_turn["tutor_comments"][0]["text"] == "Lovely pacing."
    ben_export = (await people["ben"].client.get("/api/me/export")).json()
    assert ben_export["sessions"] == []

    unconfirmed = await ana.client.request(
        "DELETE", "/api/me", json={"confirm": False}, headers=ana.h()
    )
    assert unconfirmed.status_code == 422
    no_csrf = await ana.client.request("DELETE", "/api/me", json={"confirm": True})
    assert no_csrf.status_code == 403
    gone = await ana.client.request("DELETE", "/api/me", json={"confirm": True}, headers=ana.h())
    assert gone.status_code == 204
    assert (await ana.client.get("/api/auth/me")).status_code == 401
    async with app.state.services.database.session() as db:
        assert await db.get(User, ana.id) is None
        assert await db.get(PracticeSession, session_id) is None
        assert await db.get(User, tia.id) is not None
    assert (await tia.client.get(f"/api/review/sessions/{session_id}")).status_code == 404


async def test_retention_deletes_old_sessions(app: FastAPI, people: dict[str, Person]) -> None:
    ana = people["ana"]
    pid = await persona_id(ana)
    old, recent = await ana.practise(pid, 1), await ana.practise(pid, 1)
    database = app.state.services.database
    async with database.session() as db:
        row = await db.get(PracticeSession, old)
        assert row is not None
        row.created_at = repo.utcnow() - timedelta(days=40)
        await db.commit()
    kept = await apply_retention(database, 0)
    assert kept.sessions_deleted == 0
    result = await apply_retention(database, 30)
    assert result.sessions_deleted == 1
    async with database.session() as db:
        assert await db.get(PracticeSession, old) is None
        assert await db.get(PracticeSession, recent) is not None
        assert await repo.list_turns(db, session_id=old) == []


def test_retention_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def seed() -> None:
        from app.storage.db import open_database

        database = open_database(url)
        await database.upgrade()
        async with database.session() as db:
            user = await repo.upsert_user(db, subject="dev:x", display_name="X", role="trainee")
            for age in (100, 1):
                await repo.create_practice_session(
                    db,
                    user_id=user.id,
                    persona_id="p",
                    persona_version=1,
                    planned_minutes=50,
                    opening="",
                    client_label="c",
                    evaluator_label="e",
                    created_at=repo.utcnow() - timedelta(days=age),
                )
        await database.close()

    asyncio.run(seed())
    monkeypatch.setenv("ALLIANCE_DATABASE_URL", url)
    monkeypatch.setenv("ALLIANCE_RETENTION_DAYS", "30")
    assert cli_main(["retention", "apply"]) == 0
    assert "Deleted 1 practice sessions older than 30 days." in capsys.readouterr().out
    monkeypatch.setenv("ALLIANCE_RETENTION_DAYS", "0")
    assert cli_main(["retention", "apply"]) == 0
    assert "nothing to delete" in capsys.readouterr().out


async def test_no_transcript_text_in_logs(
    people: dict[str, Person], caplog: pytest.LogCaptureFixture
) -> None:
    # The service's own loggers at their most verbose; libraries at the default level.
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="app")
    ana, tia = people["ana"], people["tia"]
    session_id = await ana.practise(await persona_id(ana), 1)
    turns = (await tia.client.get(f"/api/review/sessions/{session_id}")).json()["turns"]
    await tia.client.post(
        f"/api/review/sessions/{session_id}/turns/{turns[0]['id']}/comments",
        json={"text": "A private supervisory remark."},
        headers=tia.h(),
    )
    await ana.client.get("/api/me/export")
    assert TRAINEE_WORDS not in caplog.text
    assert "private supervisory remark" not in caplog.text
