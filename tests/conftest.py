"""Shared fixtures: settings on a throwaway database, the app in-process, the real network blocked.

A test that needs PostgreSQL or a browser skips on a laptop without them, with a message;
under CI (CI=true or ALLIANCE_REQUIRE_ALL_TESTS=1) the same skip is a failure.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.llm import _http
from app.llm.base import ChatModel
from app.main import create_app
from app.settings import PROJECT_ROOT, Settings

STRICT = os.environ.get("CI", "").lower() == "true" or bool(
    os.environ.get("ALLIANCE_REQUIRE_ALL_TESTS")
)
POSTGRES_URL = os.environ.get("ALLIANCE_TEST_POSTGRES_URL", "")


def need(condition: bool, reason: str) -> None:
    """Skip with a clear reason on a laptop; fail in CI, where everything must run."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits are recorded instead of slept; the list holds each wait asked for."""
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)
        await asyncio.sleep(0)

    monkeypatch.setattr(_http, "sleep", record)
    return delays


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise RuntimeError(f"tests must not reach the network ({host})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


# -- databases --------------------------------------------------------------------------------


async def _create_pg_database(base_url: str) -> str:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"alliance_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(base_url: str, test_url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    url, name = make_url(base_url), make_url(test_url).database
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'alliance.db'}"
        return
    need(bool(POSTGRES_URL), "set ALLIANCE_TEST_POSTGRES_URL to run the PostgreSQL variant")
    url = await _create_pg_database(POSTGRES_URL)
    try:
        yield url
    finally:
        await _drop_pg_database(POSTGRES_URL, url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        personas_dir=PROJECT_ROOT / "personas",
        prompts_dir=PROJECT_ROOT / "prompts",
        client={"provider": "scripted", "scripted_delay_ms": 0},  # type: ignore[arg-type]
    )


# -- the app ----------------------------------------------------------------------------------


class AppHarness:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.csrf = ""

    @property
    def services(self) -> Any:
        return self.app.state.services

    async def sign_in(self, name: str = "Sam Trainee") -> dict[str, Any]:
        response = await self.client.post("/api/auth/dev", json={"name": name})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.csrf = body["csrf_token"]
        return body

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    async def start(self, persona_id: str) -> dict[str, Any]:
        response = await self.client.post(
            "/api/sessions", json={"persona_id": persona_id}, headers=self.headers()
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def turn(
        self, session_id: str, text: str, *, key: str | None = None, parent_id: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        response = await self.client.post(
            f"/api/sessions/{session_id}/turns",
            json={"text": text, "idempotency_key": key or uuid.uuid4().hex, "parent_id": parent_id},
            headers={**self.headers(), "Accept": "text/event-stream"},
        )
        assert response.status_code == 200, response.text
        return parse_sse(response.text)


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse an SSE body into (event, data) pairs; comments (pings) are skipped."""
    events: list[tuple[str, dict[str, Any]]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@pytest.fixture
def make_harness(settings: Settings) -> Any:
    """Build an app (optionally with test-double models) and run its lifespan."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def factory(
        *,
        client_model: ChatModel | None = None,
        evaluator_model: ChatModel | None = None,
        **overrides: Any,
    ) -> AsyncIterator[AppHarness]:
        app_settings = settings.model_copy(update=overrides) if overrides else settings
        app = create_app(app_settings, client_model=client_model, evaluator_model=evaluator_model)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1"
            ) as client:
                yield AppHarness(app, client)

    return factory


@pytest.fixture
async def harness(make_harness: Any) -> AsyncIterator[AppHarness]:
    async with make_harness() as h:
        yield h
