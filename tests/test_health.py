"""Liveness, readiness, request ids and what the logs may contain."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from app.observability.logs import JsonFormatter, configure_logging
from app.settings import ClientRoleSettings, EvaluatorRoleSettings
from app.storage.db import open_database
from tests.conftest import POSTGRES_URL, AppHarness, _drop_pg_database

MODELS = "https://models.example.test/v1"
CLAUDE = "https://claude.example.test"


async def test_healthz_answers_without_sign_in(harness: AppHarness) -> None:
    response = await harness.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_with_the_offline_models(harness: AppHarness) -> None:
    response = await harness.client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "client_model": "ok", "evaluator_model": "ok"},
    }


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed


async def test_a_database_that_is_down_makes_the_service_not_ready(make_harness: Any) -> None:
    async with make_harness(readiness_cache_seconds=0) as h:
        assert (await h.client.get("/readyz")).status_code == 200
        database = h.services.database
        if database.engine.dialect.name == "postgresql":
            # The real thing: the database goes away under the running service.
            await _drop_pg_database(POSTGRES_URL, h.services.settings.database_url)
        else:
            # SQLite cannot be taken away from an open file; point at a server that is not there.
            h.services.database = open_database(
                f"postgresql+asyncpg://alliance@127.0.0.1:{closed_port()}/alliance"
            )
        try:
            response = await h.client.get("/readyz")
        finally:
            if h.services.database is not database:
                await h.services.database.close()
                h.services.database = database
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"].startswith("unreachable (")
    assert body["checks"]["client_model"] == "ok"
    assert body["checks"]["evaluator_model"] == "ok"


def remote_roles(**client: Any) -> dict[str, Any]:
    return {
        "client": ClientRoleSettings(
            provider="openai_compat",
            base_url=MODELS,
            model="m",
            api_key="sk-SECRET-client",  # type: ignore[arg-type]
            **client,
        ),
        "evaluator": EvaluatorRoleSettings(
            provider="anthropic",
            base_url=CLAUDE,
            model="c",
            api_key="sk-SECRET-judge",  # type: ignore[arg-type]
        ),
    }


@pytest.fixture
def upstream() -> Iterator[respx.MockRouter]:
    # The app itself is reached through ASGITransport, which respx does not intercept.
    with respx.mock(assert_all_called=False) as router:
        yield router


async def test_remote_models_are_probed_and_the_result_cached(
    make_harness: Any, upstream: respx.MockRouter
) -> None:
    models = upstream.get(MODELS + "/models").mock(
        return_value=httpx.Response(200, json={"data": []})
    )
    claude = upstream.get(CLAUDE + "/v1/models").mock(
        return_value=httpx.Response(200, json={"data": []})
    )
    async with make_harness(**remote_roles(), readiness_cache_seconds=60) as h:
        first = await h.client.get("/readyz")
        second = await h.client.get("/readyz")
    assert first.status_code == second.status_code == 200
    # The second answer came from the cache: each endpoint was probed once.
    assert models.call_count == 1
    assert claude.call_count == 1
    assert models.calls[0].request.headers["authorization"] == "Bearer sk-SECRET-client"
    assert claude.calls[0].request.headers["x-api-key"] == "sk-SECRET-judge"
    assert claude.calls[0].request.headers["anthropic-version"]


async def test_an_unreachable_model_makes_the_service_not_ready(
    make_harness: Any, upstream: respx.MockRouter
) -> None:
    upstream.get(MODELS + "/models").mock(side_effect=httpx.ConnectError("refused"))
    upstream.get(CLAUDE + "/v1/models").mock(return_value=httpx.Response(401))
    async with make_harness(**remote_roles(), readiness_cache_seconds=0) as h:
        response = await h.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["client_model"] == "models.example.test cannot be reached (ConnectError)"
    assert body["checks"]["evaluator_model"] == "claude.example.test refuses the API key (HTTP 401)"
    assert "SECRET" not in response.text


async def test_a_role_is_ready_when_a_fallback_answers(
    make_harness: Any, upstream: respx.MockRouter
) -> None:
    upstream.get(MODELS + "/models").mock(return_value=httpx.Response(503))
    backup = upstream.get("https://backup.example.test/v1/models").mock(
        return_value=httpx.Response(404)  # reachable, just without a model list
    )
    upstream.get(CLAUDE + "/v1/models").mock(return_value=httpx.Response(200, json={}))
    roles = remote_roles(fallbacks=[{"base_url": "https://backup.example.test/v1"}])
    async with make_harness(**roles, readiness_cache_seconds=0) as h:
        response = await h.client.get("/readyz")
        recovered = backup.call_count
    assert response.status_code == 200, response.text
    assert recovered == 1


async def test_request_ids_are_kept_or_made_and_returned(harness: AppHarness) -> None:
    given = await harness.client.get("/healthz", headers={"X-Request-ID": "edge-42.abc"})
    assert given.headers["x-request-id"] == "edge-42.abc"
    made = await harness.client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    # An id that could forge log lines or bloat them is replaced, not echoed.
    hostile = await harness.client.get("/healthz", headers={"X-Request-ID": "a\tb" + "x" * 200})
    assert hostile.headers["x-request-id"] != "a\tb" + "x" * 200
    assert len(hostile.headers["x-request-id"]) == 32


PHRASE = "my grandmother's blue harmonium"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG, configured and formatted exactly as `alliance serve` does."""
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("DEBUG", "json", stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.getLogger("uvicorn.access").disabled = False


async def test_logs_are_json_with_request_ids_and_never_transcript_text(
    harness: AppHarness, captured_logs: io.StringIO
) -> None:
    await harness.sign_in()
    persona = next(iter(harness.services.personas))
    session = await harness.start(persona)
    events = await harness.turn(session["id"], f"Tell me about {PHRASE}, if you like.")
    turn_id = next(data["turn_id"] for name, data in events if name == "turn")
    await harness.turn(session["id"], f"You mentioned {PHRASE} earlier.", parent_id=turn_id)
    read = await harness.client.get(
        f"/api/sessions/{session['id']}", headers={"X-Request-ID": "trace-read-1"}
    )
    assert PHRASE in read.text  # the transcript is there for its owner...

    lines = captured_logs.getvalue().splitlines()
    assert lines, "nothing was logged"
    assert PHRASE not in captured_logs.getvalue()  # ...and never in the logs
    assert "harmonium" not in captured_logs.getvalue()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "app.access"]
    turn_posts = [e for e in access if e.get("path") == "/api/sessions/{session_id}/turns"]
    assert len(turn_posts) == 2
    assert all(e["status"] == 200 and len(e["request_id"]) == 32 for e in turn_posts)
    reads = [e for e in access if e.get("request_id") == "trace-read-1"]
    assert [e["path"] for e in reads] == ["/api/sessions/{session_id}"]


def test_the_formatter_passes_only_safe_fields() -> None:
    record = logging.LogRecord("app.x", logging.INFO, __file__, 1, "turn %s stored", ("t1",), None)
    record.turn_id = "t1"
    record.trainee_text = PHRASE  # not a field the formatter knows: it is dropped
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "turn t1 stored"
    assert entry["turn_id"] == "t1"
    assert PHRASE not in json.dumps(entry)
