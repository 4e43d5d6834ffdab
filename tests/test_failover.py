"""Failover between the endpoints of one role: only before the first token reaches anyone.

The upstream servers are mocked at the network edge with respx; the stream served by the
second endpoint is the recorded OpenAI stream from tests/fixtures/llm-streams.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from app.errors import LLMStreamInterrupted, LLMUnavailable
from app.llm.base import ChatRequest
from app.llm.registry import FailoverModel, build_model
from app.observability.metrics import FAILOVERS
from app.settings import RoleSettings, Settings
from tests.llm._support import (
    ANTHROPIC_URL,
    OPENAI_URL,
    REQUEST,
    anthropic_events,
    collect,
    fixture,
    openai_events,
    openai_expected,
    request_json,
    sse_response,
    text_of,
)

PRIMARY = "https://primary.example.test/v1"
BACKUP = OPENAI_URL  # https://api.example.test/v1
RECORDED = "openai_chat_stream_text.sse"


pytestmark = pytest.mark.usefixtures("sleeps")  # retry waits recorded, not slept


def role(**overrides: Any) -> RoleSettings:
    values: dict[str, Any] = {
        "provider": "openai_compat",
        "base_url": PRIMARY,
        "api_key": "sk-primary-SECRET",
        "model": "primary-model",
        "max_retries": 0,
        "fallbacks": [{"base_url": BACKUP, "api_key": "sk-backup-SECRET", "model": "backup-model"}],
    }
    return RoleSettings(**(values | overrides))


def failovers() -> float:
    return FAILOVERS.labels(role="client")._value.get()


async def test_a_503_from_the_first_endpoint_is_served_by_the_second(
    respx_mock: respx.MockRouter,
) -> None:
    raw = fixture(RECORDED)
    expected, _, _ = openai_expected(raw)
    first = respx_mock.post(PRIMARY + "/chat/completions").mock(
        return_value=httpx.Response(503, json={"error": "overloaded"})
    )
    second = respx_mock.post(BACKUP + "/chat/completions").mock(return_value=sse_response([raw]))
    model = build_model(role(), role="client")
    assert isinstance(model, FailoverModel)
    before = failovers()
    try:
        chunks = await collect(model)
    finally:
        await model.aclose()
    assert text_of(chunks) == expected
    assert first.call_count == 1
    assert second.call_count == 1
    # Each endpoint gets its own model name and key.
    assert request_json(second)["model"] == "backup-model"
    assert second.calls[0].request.headers["authorization"] == "Bearer sk-backup-SECRET"
    assert request_json(first)["model"] == "primary-model"
    assert failovers() == before + 1
    # The label names the primary endpoint: what the session records as its model.
    assert model.label == "primary-model via primary.example.test"


async def test_a_refused_connection_fails_over_after_the_endpoints_own_retries(
    respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    first = respx_mock.post(PRIMARY + "/chat/completions").mock(
        side_effect=httpx.ConnectError("connection refused")
    )
    respx_mock.post(BACKUP + "/chat/completions").mock(
        return_value=sse_response(openai_events(["From ", "the backup."]))
    )
    model = build_model(role(max_retries=2), role="client")
    try:
        chunks = await collect(model)
    finally:
        await model.aclose()
    assert text_of(chunks) == "From the backup."
    assert first.call_count == 3  # one try and two retries, then the next endpoint
    assert len(sleeps) == 2


async def test_no_failover_once_text_has_reached_the_trainee(
    respx_mock: respx.MockRouter,
) -> None:
    broken = openai_events(["I was saying"], finish=None, usage=False, done=False)
    respx_mock.post(PRIMARY + "/chat/completions").mock(return_value=sse_response(broken))
    second = respx_mock.post(BACKUP + "/chat/completions").mock(
        return_value=sse_response(openai_events(["Something else entirely."]))
    )
    model = build_model(role(), role="client")
    seen: list[str] = []

    async def read() -> None:
        async for chunk in model.stream(REQUEST):
            seen.append(chunk.text)

    try:
        with pytest.raises(LLMStreamInterrupted):
            await read()
    finally:
        await model.aclose()
    assert "".join(seen) == "I was saying"
    assert second.call_count == 0


async def test_every_endpoint_failing_reports_the_last_failure(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(PRIMARY + "/chat/completions").mock(return_value=httpx.Response(502))
    respx_mock.post(BACKUP + "/chat/completions").mock(return_value=httpx.Response(503))
    model = build_model(role(), role="client")
    try:
        with pytest.raises(LLMUnavailable) as failure:
            await collect(model)
    finally:
        await model.aclose()
    assert "api.example.test" in failure.value.message
    assert "SECRET" not in failure.value.message


async def test_json_completion_fails_over_to_another_provider(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(PRIMARY + "/chat/completions").mock(return_value=httpx.Response(500))
    claude = respx_mock.post(ANTHROPIC_URL + "/v1/messages").mock(
        return_value=httpx.Response(
            200,
            json={
                "content": [{"type": "text", "text": '{"ok": true}'}],
                "usage": {"input_tokens": 10, "output_tokens": 3},
            },
        )
    )
    settings = role(
        fallbacks=[{"provider": "anthropic", "base_url": ANTHROPIC_URL, "model": "claude-test"}]
    )
    model = build_model(settings, role="evaluator")
    try:
        completion = await model.complete_json(ChatRequest(messages=REQUEST.messages))
    finally:
        await model.aclose()
    assert json.loads(completion.text) == {"ok": True}
    assert request_json(claude)["model"] == "claude-test"


async def test_streams_fail_over_to_another_provider(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(PRIMARY + "/chat/completions").mock(return_value=httpx.Response(429))
    respx_mock.post(ANTHROPIC_URL + "/v1/messages").mock(
        return_value=sse_response(anthropic_events(["Hello ", "from Claude."]))
    )
    settings = role(
        fallbacks=[{"provider": "anthropic", "base_url": ANTHROPIC_URL, "model": "claude-test"}]
    )
    model = build_model(settings, role="client")
    try:
        assert text_of(await collect(model)) == "Hello from Claude."
    finally:
        await model.aclose()


def test_fallbacks_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLIANCE_CLIENT__PROVIDER", "openai_compat")
    monkeypatch.setenv("ALLIANCE_CLIENT__BASE_URL", PRIMARY)
    monkeypatch.setenv("ALLIANCE_CLIENT__MODEL", "primary-model")
    monkeypatch.setenv(
        "ALLIANCE_CLIENT__FALLBACKS",
        json.dumps(
            [{"base_url": BACKUP, "api_key": "sk-x"}, {"base_url": "http://127.0.0.1:1/v1"}]
        ),
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    endpoints = settings.client.endpoints()
    assert [e.base_url for e in endpoints] == [PRIMARY, BACKUP, "http://127.0.0.1:1/v1"]
    # Provider and model default to the role's own; a fallback's key is its own.
    assert {e.provider for e in endpoints} == {"openai_compat"}
    assert {e.model for e in endpoints} == {"primary-model"}
    assert endpoints[1].api_key.get_secret_value() == "sk-x"
    assert endpoints[2].api_key.get_secret_value() == ""
    assert "sk-x" not in repr(settings)


@pytest.mark.parametrize(
    ("fallback", "problem"),
    [
        ({"provider": "scripted"}, "fallbacks[0] needs provider openai_compat or anthropic"),
        ({"model": "m"}, "fallbacks[0] needs base_url"),
    ],
)
def test_an_incomplete_fallback_is_refused_with_the_fix(
    fallback: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        role(fallbacks=[fallback])


async def test_a_role_without_fallbacks_gets_the_plain_adapter() -> None:
    settings = role(fallbacks=[])
    assert settings.endpoints() == [settings]
    model = build_model(settings, role="client")
    await model.aclose()
    assert not isinstance(model, FailoverModel)
