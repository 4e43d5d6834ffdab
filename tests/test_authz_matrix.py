"""Authorisation matrix: every route of the app, for every role, with guessed identifiers.

`test_every_route_has_an_entry` enumerates the app's routes: a route added without an entry
here fails it, so each new route gets an explicit access rule. The access rules:

- public:    anyone, signed in or not.
- signed_in: anyone signed in (the API answers 401 without a session; pages go to sign-in).
- read:      the session's trainee, a tutor of one of the trainee's cohorts, an admin.
- write:     the session's trainee only.
- review:    tutors and admins (tutors see only their cohorts' trainees); trainees get 403.
- annotate:  comment on or re-rate a session: a tutor of the trainee's cohort, an admin.
- admin:     admins only.

Whoever may not see a session gets exactly the answer a guessed, non-existent identifier gets
(404, same body), so identifiers cannot be probed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings

Access = Literal["public", "signed_in", "read", "write", "review", "annotate", "admin"]
ACTORS = ("owner", "peer", "tutor_same", "tutor_other", "admin")
# Who may use a route of each access kind (anonymous never, except public routes).
ALLOWED: dict[Access, set[str]] = {
    "public": set(ACTORS),
    "signed_in": set(ACTORS),
    "read": {"owner", "tutor_same", "admin"},
    "write": {"owner"},
    "review": {"tutor_same", "tutor_other", "admin"},
    "annotate": {"tutor_same", "admin"},
    "admin": {"admin"},
}


@dataclass(frozen=True)
class Case:
    access: Access
    ok: frozenset[int] = frozenset({200})
    anon: int = 401
    body: dict[str, Any] | None = None
    # Runs after every read, in this order, so that state changes do not hide a refusal.
    order: int = 0
    # Call from a throwaway browser (signing in would replace the actor's own session).
    fresh: bool = False


PAGE = 303  # a page without sign-in sends the browser to the sign-in page
MISSING = frozenset({404})
NO_YAML = frozenset({422})  # accepted for checking, and answered with the problems found
YAML = {"yaml": "id: matrix-persona"}
R = "/api/sessions/{session_id}"
T = "/api/sessions/{session_id}/turns/{turn_id}"

MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/api/openapi.json"): Case("public"),
    ("GET", "/api/docs"): Case("public"),
    ("GET", "/docs/oauth2-redirect"): Case("public"),
    ("GET", "/healthz"): Case("public"),
    ("GET", "/readyz"): Case("public"),
    ("GET", "/metrics"): Case("public", ok=frozenset({200, 404})),
    ("MOUNT", "/static"): Case("public"),
    ("POST", "/api/auth/dev"): Case("public", body={"name": "Someone New"}, fresh=True),
    ("GET", "/api/auth/me"): Case("signed_in"),
    ("POST", "/api/auth/logout"): Case("signed_in", order=99),
    ("GET", "/auth/login"): Case("public", ok=frozenset({303}), anon=303),
    ("GET", "/auth/callback"): Case("public", ok=frozenset({400}), anon=400),
    ("GET", "/api/personas"): Case("signed_in"),
    ("POST", "/api/sessions"): Case("signed_in", ok=frozenset({201}), body={"persona_id": ""}),
    ("GET", "/api/sessions"): Case("signed_in"),
    ("GET", R): Case("read"),
    ("GET", R + "/turns"): Case("read"),
    ("GET", R + "/hint"): Case("read", ok=frozenset({200, 409})),
    ("GET", R + "/report"): Case("read"),
    ("GET", R + "/report.md"): Case("read"),
    ("GET", R + "/report.json"): Case("read"),
    ("GET", "/api/reports/schema.json"): Case("public"),  # a schema, no data
    ("GET", T + "/events"): Case("read"),
    ("POST", R + "/turns"): Case(
        "write", body={"text": "How are you today?", "idempotency_key": "matrix-0001"}, order=2
    ),
    ("POST", T + "/retry"): Case("write", ok=frozenset({200, 409}), order=3),
    ("POST", R + "/pause"): Case("write", order=4),
    ("POST", R + "/resume"): Case("write", order=5),
    ("POST", R + "/end"): Case("write", order=6),
    ("GET", "/api/review/cohorts"): Case("review"),
    ("GET", "/api/review/sessions"): Case("review"),
    ("GET", "/api/review/agreement"): Case("review"),
    ("GET", "/api/review/sessions/{session_id}"): Case("read"),
    ("POST", "/api/review/sessions/{session_id}/turns/{turn_id}/comments"): Case(
        "annotate", ok=frozenset({201}), body={"text": "Notice the pause here."}
    ),
    ("PUT", "/api/review/sessions/{session_id}/turns/{turn_id}/ratings/{dimension}"): Case(
        "annotate", body={"score": 2, "note": "Closer to a 2."}
    ),
    ("GET", "/api/admin/audit"): Case("admin"),
    ("GET", "/tutor"): Case("review", anon=PAGE),
    ("GET", "/tutor/personas"): Case("review", anon=PAGE),
    # Authoring: tutors and admins, each persona only for its author (tested in
    # test_authoring.py); here no persona of that id exists, so authors get 404.
    ("GET", "/api/authoring/personas"): Case("review"),
    ("POST", "/api/authoring/validate"): Case("review", ok=NO_YAML, body=YAML),
    ("POST", "/api/authoring/personas"): Case("review", ok=NO_YAML, body=YAML),
    ("GET", "/api/authoring/personas/{persona_id}"): Case("review", ok=MISSING),
    ("PUT", "/api/authoring/personas/{persona_id}"): Case("review", ok=MISSING, body=YAML),
    ("GET", "/api/authoring/personas/{persona_id}/versions/{version}.yaml"): Case(
        "review", ok=MISSING
    ),
    ("GET", "/api/authoring/personas/{persona_id}/diff"): Case("review", ok=MISSING),
    ("POST", "/api/authoring/personas/{persona_id}/rollback"): Case(
        "review", ok=MISSING, body={"version": 1}
    ),
    ("POST", "/api/authoring/personas/{persona_id}/publish"): Case(
        "review", ok=MISSING, body={"version": 1, "cohort_ids": []}
    ),
    ("POST", "/api/authoring/personas/{persona_id}/preview"): Case(
        "review", ok=MISSING, body={"version": 1}
    ),
    ("GET", "/api/authoring/library/{persona_id}.yaml"): Case("review", ok=MISSING),
    ("GET", "/tutor/sessions/{session_id}"): Case("read", anon=PAGE),
    ("GET", "/api/me/export"): Case("signed_in"),
    ("GET", "/account"): Case("signed_in", anon=PAGE),
    # Without confirmation nothing is deleted; deletion itself is tested in test_review.py.
    ("DELETE", "/api/me"): Case("signed_in", ok=frozenset({422}), body={"confirm": False}),
    ("GET", "/"): Case("public", ok=frozenset({200, 303})),
    ("GET", "/practice"): Case("signed_in", anon=PAGE),
    ("GET", "/history"): Case("signed_in", anon=PAGE),
    ("GET", "/sessions/{session_id}"): Case("read", anon=PAGE),
    ("GET", "/sessions/{session_id}/report"): Case("read", anon=PAGE),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route, included routers flattened; mounts as MOUNT."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = (
            list(route.effective_route_contexts())
            if hasattr(route, "effective_route_contexts")
            else [route]
        )
        for ctx in contexts:
            methods = getattr(ctx, "methods", None)
            path = getattr(ctx, "path", "")
            if not methods:
                found.add(("MOUNT", path))
                continue
            found |= {(m, path) for m in methods if m != "HEAD"}
    return found


def test_every_route_has_an_entry() -> None:
    routes = app_routes(create_app(Settings(_env_file=None)))  # type: ignore[call-arg]
    missing = sorted(routes - MATRIX.keys())
    assert missing == [], f"add these routes to MATRIX with their access rule: {missing}"
    stale = sorted(MATRIX.keys() - routes)
    assert stale == [], f"MATRIX names routes that no longer exist: {stale}"


class World:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.csrf: dict[str, str] = {}
        self.session_id = ""
        self.turn_id = ""
        self.persona_id = ""

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1"
        )

    async def actor(self, name: str, role: str, cohort: str | None) -> None:
        client = self.client()
        self.clients[name] = client
        signed = await client.post(
            "/api/auth/dev", json={"name": f"Matrix {name}", "role": role, "cohort": cohort}
        )
        assert signed.status_code == 200, signed.text
        self.csrf[name] = signed.json()["csrf_token"]

    async def call(
        self, who: str, method: str, path: str, case: Case, *, guess: bool = False
    ) -> httpx.Response:
        client = self.clients[who] if who != "anon" else self.clients["anon"]
        ids = {
            "session_id": uuid.uuid4().hex if guess else self.session_id,
            "turn_id": uuid.uuid4().hex if guess else self.turn_id,
            "dimension": "recognition",
            "persona_id": "matrix-persona",
            "version": "1",
        }
        url = path.format(**ids) if method != "MOUNT" else "/static/app.css"
        headers = {"X-CSRF-Token": self.csrf.get(who, "")}
        body = dict(case.body) if case.body is not None else None
        if body is not None and "persona_id" in body:
            body["persona_id"] = self.persona_id
        if body is not None and "idempotency_key" in body:
            body["idempotency_key"] = f"matrix-{who}-{uuid.uuid4().hex[:8]}"
        if case.fresh:
            async with self.client() as throwaway:
                return await throwaway.request(method, url, json=body or {}, headers=headers)
        if method in ("GET", "MOUNT"):
            return await client.get(url, headers=headers)
        return await client.request(method, url, json=body or {}, headers=headers)


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        w = World(app)
        w.clients["anon"] = w.client()
        await w.actor("owner", "trainee", "cohort-a")
        await w.actor("peer", "trainee", "cohort-b")
        await w.actor("tutor_same", "tutor", "cohort-a")
        await w.actor("tutor_other", "tutor", "cohort-b")
        await w.actor("admin", "admin", None)
        owner = w.clients["owner"]
        w.persona_id = (await owner.get("/api/personas")).json()[0]["id"]
        started = await owner.post(
            "/api/sessions", json={"persona_id": w.persona_id}, headers=_h(w, "owner")
        )
        w.session_id = started.json()["id"]
        turn = await owner.post(
            f"/api/sessions/{w.session_id}/turns",
            json={"text": "Hello, what brings you here?", "idempotency_key": "setup-0001"},
            headers=_h(w, "owner"),
        )
        assert turn.status_code == 200
        w.turn_id = (await owner.get(f"/api/sessions/{w.session_id}")).json()["turns"][0]["id"]
        try:
            yield w
        finally:
            for client in w.clients.values():
                await client.aclose()


def _h(w: World, who: str) -> dict[str, str]:
    return {"X-CSRF-Token": w.csrf[who]}


async def test_matrix(world: World) -> None:
    problems: list[str] = []
    cases = sorted(MATRIX.items(), key=lambda item: item[1].order)
    for (method, path), case in cases:
        problems += await _check(world, method, path, case)
    assert problems == [], "\n".join(problems)


async def _check(w: World, method: str, path: str, case: Case) -> list[str]:
    problems: list[str] = []
    label = f"{method} {path}"
    anon = await w.call("anon", method, path, case)
    expected_anon = case.anon if case.access != "public" else None
    if expected_anon is not None and anon.status_code != expected_anon:
        problems.append(f"{label} anonymous: {anon.status_code}, expected {expected_anon}")
    if case.access == "public" and anon.status_code not in case.ok | {case.anon}:
        problems.append(f"{label} anonymous: {anon.status_code}, expected {sorted(case.ok)}")
    has_ids = "{session_id}" in path
    refused: list[str] = []
    # Refusals first: a write the owner makes (ending the session) must not mask them.
    for who in sorted(ACTORS, key=lambda a: a in ALLOWED[case.access]):
        response = await w.call(who, method, path, case)
        if who in ALLOWED[case.access]:
            if response.status_code not in case.ok:
                problems.append(
                    f"{label} as {who}: {response.status_code} {response.text[:120]}, "
                    f"expected {sorted(case.ok)}"
                )
            continue
        refused.append(who)
        expected = 404 if has_ids else 403
        if response.status_code != expected:
            problems.append(f"{label} as {who}: {response.status_code}, expected {expected}")
        elif has_ids:
            guessed = await w.call(who, method, path, case, guess=True)
            if (guessed.status_code, guessed.json()) != (404, response.json()):
                problems.append(f"{label} as {who}: refusal differs from a guessed id")
    if has_ids:
        for who in ALLOWED[case.access] - set(refused):
            guessed = await w.call(who, method, path, case, guess=True)
            if guessed.status_code != 404:
                problems.append(f"{label} as {who} with a guessed id: {guessed.status_code}")
    return problems


async def test_lists_show_only_own_sessions(world: World) -> None:
    peer = await world.clients["peer"].get("/api/sessions")
    assert peer.status_code == 200
    assert world.session_id not in peer.text
    owner = await world.clients["owner"].get("/api/sessions")
    assert world.session_id in owner.text
