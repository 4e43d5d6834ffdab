"""The OpenAI-compatible adapter against recorded and synthesised Chat Completions streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx

from app.errors import LLMBadRequest, LLMBadResponse, LLMStreamInterrupted, LLMUnavailable
from app.llm.base import ChatRequest, Usage
from app.llm.openai_compat import OpenAICompatModel

from ._support import (
    OPENAI_URL,
    REQUEST,
    SECRET,
    Body,
    collect,
    drain,
    fixture,
    openai_events,
    openai_expected,
    openai_settings,
    request_json,
    split_at,
    split_every,
    sse,
    sse_response,
    text_of,
)

URL = OPENAI_URL + "/chat/completions"
SIZES = [1, 3, 7, 64, 100_000]


@pytest.fixture
async def model() -> Any:
    model = OpenAICompatModel(openai_settings(), role="client")
    yield model
    await model.aclose()


def expected_usage(usage: dict[str, Any] | None) -> Usage | None:
    if usage is None:
        return None
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    return Usage(usage["prompt_tokens"], usage["completion_tokens"], cached)


@pytest.mark.parametrize(
    "name",
    ["openai_chat_stream_text.sse", "openai_chat_stream_json_schema.sse"],
)
@pytest.mark.parametrize("size", SIZES)
async def test_recorded_text_streams(
    model: OpenAICompatModel, respx_mock: respx.MockRouter, name: str, size: int
) -> None:
    raw = fixture(name)
    text, usage, finish = openai_expected(raw)
    respx_mock.post(URL).mock(return_value=sse_response(split_every(raw, size)))
    chunks = await collect(model)
    assert text
    assert text_of(chunks) == text
    assert chunks[-1].usage == expected_usage(usage)
    assert chunks[-1].finish_reason == finish == "stop"
    assert all(chunk.text for chunk in chunks[:-1])
    if "json_schema" in name:
        assert json.loads(text_of(chunks)) == {
            "city": "San Francisco",
            "temperature": 61,
            "units": "f",
        }


@pytest.mark.parametrize("size", SIZES)
async def test_recorded_tool_call_stream_yields_no_text(
    model: OpenAICompatModel, respx_mock: respx.MockRouter, size: int
) -> None:
    raw = fixture("openai_chat_stream_tool_call.sse")
    _, usage, finish = openai_expected(raw)
    respx_mock.post(URL).mock(return_value=sse_response(split_every(raw, size)))
    chunks = await collect(model)
    assert text_of(chunks) == ""
    assert len(chunks) == 1
    assert chunks[0].finish_reason == finish == "tool_calls"
    assert chunks[0].usage == expected_usage(usage) == Usage(44, 16, 0)


async def test_split_inside_multibyte_characters(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    raw = fixture("openai_chat_stream_text.sse").replace(
        b'"content":" unable"', '"content":" unable — désolé 😊"'.encode()
    )
    text, _, _ = openai_expected(raw)
    assert "😊" in text
    emoji, accent = raw.index("😊".encode()), raw.index("é".encode())
    parts = split_at(raw, [accent + 1, emoji + 1, emoji + 2, emoji + 3])
    respx_mock.post(URL).mock(side_effect=[sse_response(parts), sse_response(split_every(raw, 1))])
    assert text_of(await collect(model)) == text
    assert text_of(await collect(model)) == text


async def test_tolerates_crlf_comments_spaces_and_extra_keys(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    raw = fixture("openai_chat_stream_text.sse")
    text, usage, _ = openai_expected(raw)
    events = []
    for line in raw.decode().split("\n"):
        if line.startswith("data: {"):
            chunk = json.loads(line[6:]) | {"x_vendor": {"latency_ms": 3}}
            events.append(": keep-alive\r\n\r\ndata:  " + json.dumps(chunk) + "\r\n\r\n")
    events.append("data: [DONE]\r\n\r\n")
    body = "".join(events).encode()
    assert b'", "' in body  # json.dumps puts spaces after separators
    respx_mock.post(URL).mock(return_value=sse_response(split_every(body, 7)))
    chunks = await collect(model)
    assert text_of(chunks) == text
    assert chunks[-1].usage == expected_usage(usage)


async def test_missing_usage_length_finish_and_no_done_marker(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    events = openai_events(["Well", "..."], finish="length", usage=False, done=False)
    respx_mock.post(URL).mock(return_value=sse_response(events))
    chunks = await collect(model)
    assert text_of(chunks) == "Well..."
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].usage is None


async def test_cached_tokens_are_reported(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    usage = {
        "prompt_tokens": 900,
        "completion_tokens": 4,
        "prompt_tokens_details": {"cached_tokens": 768},
    }
    events = [
        *openai_events(["Hi"], usage=False, done=False),
        b'data: {"choices":[],"usage":' + json.dumps(usage).encode() + b"}\n\ndata: [DONE]\n\n",
    ]
    respx_mock.post(URL).mock(return_value=sse_response(events))
    chunks = await collect(model)
    assert chunks[-1].usage == Usage(input_tokens=900, output_tokens=4, cached_tokens=768)


async def test_request_shape(model: OpenAICompatModel, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(URL).mock(return_value=sse_response(openai_events(["ok"])))
    await collect(model, ChatRequest(messages=REQUEST.messages, max_tokens=123, temperature=0.2))
    request = route.calls[0].request
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    assert request_json(route) == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "You are a client in a counselling session."},
            {"role": "user", "content": "How have you been this week?"},
        ],
        "max_tokens": 123,
        "temperature": 0.2,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert model.label == "gpt-test via api.example.test"
    assert SECRET not in model.label
    assert model.offline is False


async def test_ollama_openai_compatible_endpoint(respx_mock: respx.MockRouter) -> None:
    # Ollama also serves the OpenAI-compatible API at /v1, which is what this adapter speaks.
    # The recorded file is Ollama's native /api/chat NDJSON; its message contents and token
    # counts are re-expressed here as the OpenAI-format stream Ollama's /v1 sends.
    lines = [
        json.loads(line) for line in fixture("ollama_chat_stream.extracted.ndjson").splitlines()
    ]
    final = lines[-1]
    pieces = [line["message"]["content"] for line in lines if line["message"]["content"]]
    events = openai_events(pieces, finish=final["done_reason"], usage=False, done=False)
    usage = {"prompt_tokens": final["prompt_eval_count"], "completion_tokens": final["eval_count"]}
    events.append(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
    events.append(b"data: [DONE]\n\n")
    route = respx_mock.post("http://127.0.0.1:11434/v1/chat/completions").mock(
        return_value=sse_response(split_every(b"".join(events), 3))
    )
    settings = openai_settings(base_url="http://127.0.0.1:11434/v1", api_key="", model="gemma3:1b")
    model = OpenAICompatModel(settings, role="client")
    chunks = await collect(model)
    await model.aclose()
    assert text_of(chunks) == "Okay, here we go!\n\n1, 2, 3, 4, 5\n"
    assert chunks[-1].usage == Usage(input_tokens=16, output_tokens=22)
    assert chunks[-1].finish_reason == "stop"
    assert "authorization" not in route.calls[0].request.headers
    assert model.label == "gemma3:1b via 127.0.0.1"


async def test_consumer_stopping_early_closes_the_upstream_response(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    events = openai_events(["one", " two", " three"])
    body = Body([*events[:2], 5.0, *events[2:]])
    respx_mock.post(URL).mock(return_value=httpx.Response(200, stream=body))
    stream = model.stream(REQUEST)
    first = await anext(stream)
    assert first.text == "one"
    assert not body.closed
    await stream.aclose()  # type: ignore[attr-defined]
    assert body.closed


async def test_cancelling_the_consumer_closes_the_upstream_response(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    events = openai_events(["one", " two"])
    body = Body([*events[:2], 5.0, *events[2:]])
    respx_mock.post(URL).mock(return_value=httpx.Response(200, stream=body))
    got_text = asyncio.Event()

    async def consume() -> None:
        async for chunk in model.stream(REQUEST):
            if chunk.text:
                got_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_text.wait(), 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert body.closed


def completion(content: str, **usage: int) -> httpx.Response:
    body = {
        "id": "c1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 9, **usage},
    }
    return httpx.Response(200, json=body)


SCHEMA = {"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}
JSON_REQUEST = ChatRequest(messages=REQUEST.messages, json_schema=SCHEMA, schema_name="critique")


async def test_complete_json_with_schema(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(URL).mock(return_value=completion('{"score": 4}'))
    result = await model.complete_json(JSON_REQUEST)
    assert result.text == '{"score": 4}'
    assert result.usage == Usage(input_tokens=30, output_tokens=9)
    sent = request_json(route)
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "critique", "schema": SCHEMA, "strict": False},
    }
    assert "stream" not in sent


def refusal(message: str) -> httpx.Response:
    return httpx.Response(
        400, json={"error": {"message": message, "type": "invalid_request_error"}}
    )


@pytest.mark.parametrize(
    ("refusals", "last_format"),
    [
        (["'response_format' of type 'json_schema' is not supported"], {"type": "json_object"}),
        (["json_schema unsupported", "response_format json_object is not supported"], None),
    ],
)
async def test_complete_json_falls_back_one_format_at_a_time(
    model: OpenAICompatModel,
    respx_mock: respx.MockRouter,
    refusals: list[str],
    last_format: dict[str, str] | None,
) -> None:
    route = respx_mock.post(URL).mock(
        side_effect=[*(refusal(text) for text in refusals), completion('{"score": 2}')]
    )
    assert (await model.complete_json(JSON_REQUEST)).text == '{"score": 2}'
    assert route.call_count == len(refusals) + 1
    assert request_json(route, len(refusals)).get("response_format") == last_format
    assert request_json(route, 0)["response_format"]["type"] == "json_schema"


async def test_complete_json_other_refusals_are_not_retried(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(URL).mock(return_value=refusal("maximum context length exceeded"))
    with pytest.raises(LLMBadRequest) as caught:
        await model.complete_json(JSON_REQUEST)
    assert route.call_count == 1
    assert SECRET not in str(caught.value)
    assert "context length" not in str(caught.value)  # server text is never echoed


async def test_complete_json_unreadable_reply(
    model: OpenAICompatModel, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(URL).mock(return_value=httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(LLMBadResponse):
        await model.complete_json(ChatRequest(messages=REQUEST.messages))
    assert route.call_count == 1
    assert request_json(route)["response_format"] == {"type": "json_object"}


async def test_owned_client_is_closed_but_a_shared_one_is_not() -> None:
    shared = httpx.AsyncClient()
    model = OpenAICompatModel(openai_settings(), role="evaluator", client=shared)
    await model.aclose()
    assert not shared.is_closed
    await shared.aclose()
    own = OpenAICompatModel(openai_settings(), role="evaluator")
    await own.aclose()
    assert own._client.is_closed


async def test_error_object_inside_the_stream(
    model: OpenAICompatModel, respx_mock: respx.MockRouter, sleeps: list[float]
) -> None:
    # vLLM, LiteLLM and OpenRouter report upstream failures as an `error` object in the stream.
    overloaded = sse({"error": {"message": "upstream overloaded", "code": 503}})
    route = respx_mock.post(URL).mock(
        side_effect=[
            sse_response([overloaded]),
            sse_response(
                [*openai_events(["Half"], finish=None, usage=False, done=False), overloaded]
            ),
        ]
    )
    seen: list[str] = []
    with pytest.raises(LLMStreamInterrupted) as caught:
        await drain(model, seen)
    assert seen == ["Half"]
    assert isinstance(caught.value.__cause__, LLMUnavailable)
    assert route.call_count == 2
    assert len(sleeps) == 1
    assert "upstream overloaded" not in str(caught.value)
