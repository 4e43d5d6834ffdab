"""Persona authoring: validation messages, versions, diff, rollback, publishing to cohorts,
preview by chatting, import/export, and sessions keeping the version they began with."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.main import create_app
from app.settings import PROJECT_ROOT, Settings

BASE = "daniel-secure"
ORIGINAL = (PROJECT_ROOT / "personas" / f"{BASE}.yaml").read_text(encoding="utf-8")
DRAFT = ORIGINAL.replace(f"id: {BASE}", "id: dan-draft", 1)
PUBLISH = "/api/authoring/personas/dan-draft/publish"


class Person:
    def __init__(self, app: FastAPI) -> None:
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        )
        self.csrf = ""

    async def sign_in(self, name: str, role: str, cohort: str | None) -> Person:
        body = await self.client.post(
            "/api/auth/dev", json={"name": name, "role": role, "cohort": cohort}
        )
        assert body.status_code == 200, body.text
        self.csrf = body.json()["csrf_token"]
        return self

    async def send(self, method: str, url: str, body: Any = None) -> httpx.Response:
        return await self.client.request(
            method, url, json=body, headers={"X-CSRF-Token": self.csrf}
        )

    async def offered(self) -> set[str]:
        return {p["id"] for p in (await self.client.get("/api/personas")).json()}


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def test_validation_names_every_field_and_fix(settings: Settings) -> None:
    async with running(settings) as app:
        tutor = await Person(app).sign_in("Tess", "tutor", "monday")
        broken = DRAFT.replace("initial_trust:", "initial_trust: -5\nold_trust:", 1)
        answer = await tutor.send("POST", "/api/authoring/validate", {"yaml": broken})
        assert answer.status_code == 422
        fields = {p["field"]: p["fix"] for p in answer.json()["problems"]}
        assert "initial_trust" in fields
        assert "old_trust" in fields
        assert "remove it" in fields["old_trust"]
        bad_yaml = await tutor.send("POST", "/api/authoring/validate", {"yaml": "id: [unclosed"})
        assert bad_yaml.status_code == 422
        assert bad_yaml.json()["problems"]
        fine = await tutor.send("POST", "/api/authoring/validate", {"yaml": DRAFT})
        assert fine.json() == {"ok": True, "id": "dan-draft", "name": fine.json()["name"]}
        builtin = await tutor.send("POST", "/api/authoring/personas", {"yaml": ORIGINAL})
        assert builtin.status_code == 422
        assert "built-in" in builtin.json()["detail"]
        trainee = await Person(app).sign_in("Tom", "trainee", "monday")
        refused = await trainee.send("POST", "/api/authoring/validate", {"yaml": DRAFT})
        assert refused.status_code == 403


async def test_versions_diff_rollback_export(settings: Settings) -> None:
    async with running(settings) as app:
        tutor = await Person(app).sign_in("Tess", "tutor", "monday")
        made = await tutor.send("POST", "/api/authoring/personas", {"yaml": DRAFT})
        assert made.status_code == 201, made.text
        assert made.json()["latest"] == 1
        again = await tutor.send("POST", "/api/authoring/personas", {"yaml": DRAFT})
        assert again.status_code == 422
        assert "exists already" in again.json()["detail"]
        v2_text = DRAFT.replace("initial_trust: 45", "initial_trust: 50", 1)
        saved = await tutor.send(
            "PUT", "/api/authoring/personas/dan-draft", {"yaml": v2_text, "note": "notes"}
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["latest"] == 2
        renamed = await tutor.send("PUT", "/api/authoring/personas/dan-draft", {"yaml": ORIGINAL})
        assert renamed.status_code == 422
        assert renamed.json()["problems"][0]["field"] == "id"
        diff = await tutor.client.get("/api/authoring/personas/dan-draft/diff?older=1&newer=2")
        assert "-initial_trust: 45\n+initial_trust: 50" in diff.text
        assert diff.text.startswith("--- version 1")
        back = await tutor.send(
            "POST", "/api/authoring/personas/dan-draft/rollback", {"version": 1}
        )
        assert back.json()["latest"] == 3
        assert back.json()["yaml"] == DRAFT
        assert back.json()["versions"][-1]["note"] == "rolled back to version 1"
        exported = await tutor.client.get("/api/authoring/personas/dan-draft/versions/2.yaml")
        assert exported.text == v2_text
        assert "attachment" in exported.headers["content-disposition"]
        missing = await tutor.client.get("/api/authoring/personas/dan-draft/versions/9.yaml")
        assert missing.status_code == 404
        other = await Person(app).sign_in("Olga", "tutor", "monday")
        assert (await other.client.get("/api/authoring/personas/dan-draft")).status_code == 404
        assert (await other.client.get("/api/authoring/personas")).json() == []
        admin = await Person(app).sign_in("Ada", "admin", None)
        assert (await admin.client.get("/api/authoring/personas/dan-draft")).status_code == 200


async def test_publish_to_cohorts_and_sessions_keep_their_version(settings: Settings) -> None:
    async with running(settings) as app:
        tutor = await Person(app).sign_in("Tess", "tutor", "monday")
        await tutor.send("POST", "/api/authoring/personas", {"yaml": DRAFT})
        monday = await Person(app).sign_in("Mo", "trainee", "monday")
        friday = await Person(app).sign_in("Fi", "trainee", "friday")
        assert not any("dan-draft" in p for p in await monday.offered())
        cohort = (await tutor.client.get("/api/review/cohorts")).json()[0]["id"]
        foreign = await tutor.send(
            "POST",
            "/api/authoring/personas/dan-draft/publish",
            {"version": 1, "cohort_ids": [uuid.uuid4().hex]},
        )
        assert foreign.status_code == 404
        pub = await tutor.send(
            "POST",
            "/api/authoring/personas/dan-draft/publish",
            {"version": 1, "cohort_ids": [cohort]},
        )
        assert pub.json()["published"] == {cohort: 1}
        assert "dan-draft@v1" in await monday.offered()
        assert BASE in await monday.offered()  # the built-in library stays
        assert "dan-draft@v1" not in await friday.offered()
        refused = await friday.send("POST", "/api/sessions", {"persona_id": "dan-draft@v1"})
        assert refused.status_code == 404
        started = await monday.send("POST", "/api/sessions", {"persona_id": "dan-draft@v1"})
        assert started.status_code == 201, started.text
        first = started.json()["id"]
        assert started.json()["persona_version"] == 1

        v2 = DRAFT.replace("initial_trust: 45", "initial_trust: 55", 1)
        await tutor.send("PUT", "/api/authoring/personas/dan-draft", {"yaml": v2})
        await tutor.send(
            "POST",
            "/api/authoring/personas/dan-draft/publish",
            {"version": 2, "cohort_ids": [cohort]},
        )
        assert "dan-draft@v2" in await monday.offered()
        assert "dan-draft@v1" not in await monday.offered()
        turn = await monday.send(
            "POST",
            f"/api/sessions/{first}/turns",
            {"text": "Hello, where shall we start?", "idempotency_key": uuid.uuid4().hex},
        )
        assert turn.status_code == 200  # the session goes on with the version it began with
        session = (await monday.client.get(f"/api/sessions/{first}")).json()
        assert session["persona_version"] == 1
        assert session["persona"]["id"] == "dan-draft@v1"

    # After a restart the published version is offered again and old sessions still open.
    async with running(settings) as app:
        monday = await Person(app).sign_in("Mo", "trainee", "monday")
        assert "dan-draft@v2" in await monday.offered()
        assert (await monday.client.get(f"/api/sessions/{first}")).status_code == 200


async def test_preview_by_chatting_with_a_version(settings: Settings) -> None:
    async with running(settings) as app:
        tutor = await Person(app).sign_in("Tess", "tutor", "monday")
        await tutor.send("POST", "/api/authoring/personas", {"yaml": DRAFT})
        started = await tutor.send(
            "POST", "/api/authoring/personas/dan-draft/preview", {"version": 1}
        )
        assert started.status_code == 201
        session_id = started.json()["session_id"]
        turn = await tutor.send(
            "POST",
            f"/api/sessions/{session_id}/turns",
            {"text": "Hello, what brings you here today?", "idempotency_key": uuid.uuid4().hex},
        )
        assert turn.status_code == 200
        assert "event: reply" in turn.text
        page = await tutor.client.get(f"/sessions/{session_id}")
        assert page.status_code == 200
        library = await tutor.client.get(f"/api/authoring/library/{BASE}.yaml")
        assert library.text == ORIGINAL
        assert (await tutor.client.get("/api/authoring/library/nope.yaml")).status_code == 404
