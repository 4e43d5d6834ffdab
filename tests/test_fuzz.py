"""Property-based fuzzing of the HTTP API from its own OpenAPI schema (schemathesis).

Every operation is called with generated inputs, signed in as a trainee (session cookie and
CSRF header), in-process over ASGI. No answer may be a server error, and every documented
response must match its schema. Real identifiers are mixed into the generated ones, so the
fuzzer also reaches the paths past "not found". `ALLIANCE_FUZZ_EXAMPLES` sets the examples per
operation (default sized for CI).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
import hypothesis.strategies as st
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from app.main import create_app
from app.settings import PROJECT_ROOT, Settings
from tests.conftest import parse_sse

EXAMPLES = int(os.environ.get("ALLIANCE_FUZZ_EXAMPLES", "30"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Signing out would end the fuzzer's own sign-in for every later example.
SIGN_OUT = "/api/auth/logout"

_workdir = Path(tempfile.mkdtemp(prefix="alliance-fuzz-"))
atexit.register(shutil.rmtree, _workdir, ignore_errors=True)
SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    database_url=f"sqlite+aiosqlite:///{_workdir / 'fuzz.db'}",
    personas_dir=PROJECT_ROOT / "personas",
    prompts_dir=PROJECT_ROOT / "prompts",
    client={"provider": "scripted", "scripted_delay_ms": 0},  # type: ignore[arg-type]
)
APP = create_app(SETTINGS)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP).exclude(path=SIGN_OUT)


class Trainee:
    """A signed-in trainee with one session and one turn, made once through the real API."""

    cookie = ""
    csrf = ""
    ids: dict[str, str] = {}  # noqa: RUF012 - filled once, read by every example

    @classmethod
    def ensure(cls) -> None:
        if not cls.cookie:
            asyncio.run(cls._sign_in())

    @classmethod
    async def _sign_in(cls) -> None:
        # A separate in-process app: it shares the fuzzed app's database file.
        app = create_app(SETTINGS)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
            ) as client,
        ):
            signed = await client.post("/api/auth/dev", json={"name": "Fuzz Trainee"})
            assert signed.status_code == 200, signed.text
            headers = {"X-CSRF-Token": signed.json()["csrf_token"]}
            persona = (await client.get("/api/personas")).json()[0]["id"]
            session = await client.post(
                "/api/sessions", json={"persona_id": persona}, headers=headers
            )
            assert session.status_code == 201, session.text
            turn = await client.post(
                f"/api/sessions/{session.json()['id']}/turns",
                json={"text": "Where would you like to start?", "idempotency_key": "fuzz-0001"},
                headers=headers,
            )
            assert turn.status_code == 200, turn.text
            turn_id = parse_sse(turn.text)[0][1]["turn_id"]
            cls.ids = {
                "session_id": session.json()["id"],
                "turn_id": turn_id,
                "persona_id": persona,
            }
            cls.csrf = headers["X-CSRF-Token"]
            cls.cookie = signed.cookies["alliance_session"]


@schema.parametrize()
@schema.given(real_ids=st.booleans())
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_answers_within_its_schema(case: Any, real_ids: bool) -> None:
    Trainee.ensure()
    if real_ids and case.path_parameters:
        for name in case.path_parameters:
            if name in Trainee.ids:
                case.path_parameters[name] = Trainee.ids[name]
    case.call_and_validate(
        headers={"X-CSRF-Token": Trainee.csrf},
        cookies={"alliance_session": Trainee.cookie},
        checks=CHECKS,
    )
