"""The Anthropic Messages adapter against the recorded stream and synthesised variants."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from app.errors import LLMRateLimited, LLMStreamInterrupted, LLMUnavailable
from app.llm.anthropic import AnthropicModel
from app.llm.base import ChatRequest, Usage

from ._support import (
    ANTHROPIC_URL,
    REQUEST,
    SECRET,
    anthropic_events,
    anthropic_expected,
    anthropic_settings,
    collect,
    drain,
    fixture,
    request_json,
    split_at,
    split_every,
    sse,
    sse_response,
    text_of,
)

URL = ANTHROPIC_URL + "/v1/messages"
RECORDED = "anthropic_messages_stream_tool_use.sse"


@pytest.fixture
async def model() -> Any:
    model = AnthropicModel(anthropic_settings(), role="client")
    yield model
    await model.aclose()


@pytest.mark.parametrize("size", [1, 3, 7, 64, 100_000])
async def test_recorded_tool_use_stream(
    model: AnthropicModel, respx_mock: respx.MockRouter, size: int
) -> None:
    raw = fixture(RECORDED)
    assert not raw.endswith(b"\n")  # the last event has no trailing blank line
    text, usage, stop = anthropic_expected(raw)
    respx_mock.post(URL).mock(return_value=sse_response(split_every(raw, size)))
    chunks = await collect(model)
    assert text == "I'll check the current weather in Paris for you."
    assert text_of(chunks) == text
    final = chunks[-1]
    assert final.usage == Usage(
        input_tokens=usage["input_tokens"] + usage["cache_read_input_tokens"],
        output_tokens=usage["output_tokens"],
        cached_tokens=usage["cache_read_input_tokens"],
    )
    assert final.usage == Usage(input_tokens=377, output_tokens=65)
    assert final.finish_reason == stop == "tool_use"


async def test_split_inside_multibyte_characters(
    model: AnthropicModel, respx_mock: respx.MockRouter
) -> None:
    raw = fixture(RECORDED).replace(b"Paris for you.", "Paris pour vous — très bien 🌧️.".encode())
    text, _, _ = anthropic_expected(raw)
    rain = raw.index("🌧".encode())
    parts = split_at(raw, [raw.index("è".encode()) + 1, rain + 1, rain + 2, rain + 3])
    respx_mock.post(URL).mock(side_effect=[sse_response(parts), sse_response(split_every(raw, 1))])
    assert text_of(await collect(model)) == text
    assert text_of(await collect(model)) == text


async def test_request_shape(model: AnthropicModel, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=sse_response(anthropic_events(["ok"])))
    await collect(model, ChatRequest(messages=REQUEST.messages, max_tokens=222))
    headers = route.calls[0].request.headers
    assert headers["x-api-key"] == SECRET
    assert headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in headers
    assert request_json(route) == {
        "model": "claude-test",
        "max_tokens": 222,
        "temperature": 0.8,
        "system": [
            {
                "type": "text",
                "text": "You are a client in a counselling session.",
                "cache_control": {"type": "ephemeral"},
            }
        ],
        "messages": [{"role": "user", "content": "How have you been this week?"}],
        "stream": True,
    }
    assert model.label == "claude-test via anthropic.example.test"
    assert model.offline is False


@pytest.mark.parametrize(
    "base_url", ["", "https://api.anthropic.com/", "https://api.anthropic.com/v1"]
)
async def test_default_and_versioned_base_urls(respx_mock: respx.MockRouter, base_url: str) -> None:
    route = respx_mock.post("https://api.anthropic.com/v1/messages").mock(
        return_value=sse_response(anthropic_events(["ok"]))
    )
    model = AnthropicModel(anthropic_settings(base_url=base_url), role="evaluator")
    assert text_of(await collect(model)) == "ok"
    await model.aclose()
    assert route.call_count == 1
    assert model.label == "claude-test via api.anthropic.com"


async def test_cached_tokens_and_final_stop_reason(
    model: AnthropicModel, respx_mock: respx.MockRouter
) -> None:
    start_usage = {"input_tokens": 20, "cache_read_input_tokens": 1000, "output_tokens": 1}
    events = anthropic_events(["Hi"], stop=False)
    events[0] = sse({"type": "message_start", "message": {"usage": start_usage}}, "message_start")
    delta = {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}}
    events += [
        sse(delta | {"usage": {"output_tokens": 400}}, "message_delta"),
        sse({"type": "message_stop"}, "message_stop"),
    ]
    respx_mock.post(URL).mock(return_value=sse_response(events))
    final = (await collect(model))[-1]
    assert final.usage == Usage(input_tokens=1020, output_tokens=400, cached_tokens=1000)
    assert final.finish_reason == "length"


async def test_end_turn_is_reported_as_stop(
    model: AnthropicModel, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(URL).mock(return_value=sse_response(anthropic_events(["Hello", " there."])))
    chunks = await collect(model)
    assert text_of(chunks) == "Hello there."
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == Usage(input_tokens=12, output_tokens=5)


def error_event(kind: str) -> bytes:
    return sse({"type": "error", "error": {"type": kind, "message": "Overloaded"}}, "error")


async def test_overloaded_error_event_before_text_is_retried(
    model: AnthropicModel, respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    head = anthropic_events([])[:1]
    route = respx_mock.post(URL).mock(
        side_effect=[
            sse_response([*head, error_event("overloaded_error")]),
            sse_response(anthropic_events(["Fine."])),
        ]
    )
    assert text_of(await collect(model)) == "Fine."
    assert route.call_count == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("kind", "error"),
    [("overloaded_error", LLMUnavailable), ("rate_limit_error", LLMRateLimited)],
)
async def test_error_events_exhausting_retries(
    model: AnthropicModel, respx_mock: respx.MockRouter, kind: str, error: type[Exception]
) -> None:
    route = respx_mock.post(URL).mock(side_effect=lambda request: sse_response([error_event(kind)]))
    with pytest.raises(error):
        await collect(model)
    assert route.call_count == 3


async def test_error_event_after_text_interrupts(
    model: AnthropicModel, respx_mock: respx.MockRouter
) -> None:
    events = anthropic_events(["Part of a reply"], stop=False)
    route = respx_mock.post(URL).mock(
        return_value=sse_response([*events, error_event("overloaded_error")])
    )
    seen: list[str] = []
    with pytest.raises(LLMStreamInterrupted) as caught:
        await drain(model, seen)
    assert "".join(seen) == "Part of a reply"
    assert isinstance(caught.value.__cause__, LLMUnavailable)
    assert route.call_count == 1


async def test_complete_json(model: AnthropicModel, respx_mock: respx.MockRouter) -> None:
    body = {
        "type": "message",
        "content": [
            {"type": "text", "text": '{"score": '},
            {"type": "tool_use", "id": "t", "name": "x", "input": {}},
            {"type": "text", "text": "3}"},
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 50, "cache_read_input_tokens": 10, "output_tokens": 7},
    }
    route = respx_mock.post(URL).mock(return_value=httpx.Response(200, json=body))
    schema = {"type": "object", "properties": {"score": {"type": "integer"}}}
    result = await model.complete_json(ChatRequest(messages=REQUEST.messages, json_schema=schema))
    assert result.text == '{"score": 3}'
    assert result.usage == Usage(input_tokens=60, output_tokens=7, cached_tokens=10)
    sent = request_json(route)
    assert "stream" not in sent
    system = sent["system"][0]["text"]
    assert system.startswith("You are a client in a counselling session.\n\n")
    assert "Respond with one JSON object only" in system
    assert json.dumps(schema, separators=(",", ":")) in system
