"""Helpers for the model adapter tests: recorded fixtures, chunked bodies, stream builders.

Expected values are computed here with plain `json`, independently of the adapters' parser.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.errors import LLMError
from app.llm.anthropic import AnthropicModel
from app.llm.base import ChatMessage, ChatModel, ChatRequest, StreamChunk
from app.llm.openai_compat import OpenAICompatModel
from app.settings import RoleSettings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "llm-streams"
SECRET = "sk-test-SECRET-4f9a1c"
OPENAI_URL = "https://api.example.test/v1"
ANTHROPIC_URL = "https://anthropic.example.test"

REQUEST = ChatRequest(
    messages=[
        ChatMessage(role="system", content="You are a client in a counselling session."),
        ChatMessage(role="user", content="How have you been this week?"),
    ]
)

Part = bytes | float | BaseException


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class Body(httpx.AsyncByteStream):
    """A response body delivered in parts: bytes are sent, floats pause, exceptions are raised."""

    def __init__(self, parts: Sequence[Part]) -> None:
        self.parts = list(parts)
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            if isinstance(part, float):
                await asyncio.sleep(part)
            elif isinstance(part, BaseException):
                raise part
            else:
                yield part

    async def aclose(self) -> None:
        self.closed = True


def sse_response(parts: Sequence[Part], status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, headers={"content-type": "text/event-stream", **headers}, stream=Body(parts)
    )


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def split_at(data: bytes, positions: Iterable[int]) -> list[bytes]:
    cuts = [0, *sorted(positions), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def data_lines(raw: bytes) -> list[str]:
    """The payload of every `data:` line, parsed naively (the fixtures use one line per event)."""
    lines = raw.decode("utf-8").replace("\r\n", "\n").split("\n")
    return [line[5:].strip() for line in lines if line.startswith("data:")]


def openai_expected(raw: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    text, usage, finish = "", None, None
    for payload in data_lines(raw):
        if payload == "[DONE]":
            break
        chunk = json.loads(payload)
        usage = chunk.get("usage") or usage
        for choice in chunk["choices"]:
            text += choice["delta"].get("content") or ""
            finish = choice.get("finish_reason") or finish
    return text, usage, finish


def anthropic_expected(raw: bytes) -> tuple[str, dict[str, int], str]:
    text, usage, stop = "", {}, ""
    for payload in data_lines(raw):
        event = json.loads(payload)
        if event["type"] == "message_start":
            usage.update(event["message"]["usage"])
        elif event["type"] == "content_block_delta" and event["delta"]["type"] == "text_delta":
            text += event["delta"]["text"]
        elif event["type"] == "message_delta":
            usage.update(event["usage"])
            stop = event["delta"]["stop_reason"]
    return text, usage, stop


def sse(payload: Any, event: str | None = None) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()


def openai_events(
    texts: Sequence[str], *, finish: str | None = "stop", usage: bool = True, done: bool = True
) -> list[bytes]:
    def chunk(delta: dict[str, Any], reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": reason}
        return sse({"id": "c1", "object": "chat.completion.chunk", "choices": [choice]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": text}) for text in texts]
    if finish:
        events.append(chunk({}, finish))
    if usage:
        counts = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
        events.append(sse({"id": "c1", "choices": [], "usage": counts}))
    if done:
        events.append(sse("[DONE]"))
    return events


def anthropic_events(texts: Sequence[str], *, stop: bool = True) -> list[bytes]:
    def event(payload: dict[str, Any]) -> bytes:
        return sse(payload, event=payload["type"])

    start_usage = {"input_tokens": 12, "cache_read_input_tokens": 0, "output_tokens": 1}
    events = [
        event({"type": "message_start", "message": {"id": "m1", "usage": start_usage}}),
        event({"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}),
    ]
    events += [
        event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            }
        )
        for text in texts
    ]
    events.append(event({"type": "content_block_stop", "index": 0}))
    if stop:
        delta = {"stop_reason": "end_turn", "stop_sequence": None}
        events.append(
            event({"type": "message_delta", "delta": delta, "usage": {"output_tokens": 5}})
        )
        events.append(event({"type": "message_stop"}))
    return events


def openai_settings(**overrides: Any) -> RoleSettings:
    values: dict[str, Any] = {
        "provider": "openai_compat",
        "base_url": OPENAI_URL + "/",
        "api_key": SECRET,
        "model": "gpt-test",
        "max_retries": 2,
    }
    return RoleSettings(**(values | overrides))


def anthropic_settings(**overrides: Any) -> RoleSettings:
    values: dict[str, Any] = {
        "provider": "anthropic",
        "base_url": ANTHROPIC_URL,
        "api_key": SECRET,
        "model": "claude-test",
        "max_retries": 2,
    }
    return RoleSettings(**(values | overrides))


async def collect(model: ChatModel, request: ChatRequest = REQUEST) -> list[StreamChunk]:
    return [chunk async for chunk in model.stream(request)]


def text_of(chunks: Sequence[StreamChunk]) -> str:
    return "".join(chunk.text for chunk in chunks)


def request_json(route: Any, index: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[index].request.content)
    return body


async def drain(model: ChatModel, seen: list[str], request: ChatRequest = REQUEST) -> None:
    """Consume a stream, keeping the text received before any failure."""
    async for chunk in model.stream(request):
        seen.append(chunk.text)


def safe(exc: LLMError) -> LLMError:
    """Error messages are shown to trainees: never the key, never empty."""
    assert SECRET not in str(exc)
    assert SECRET not in repr(exc)
    assert exc.message
    return exc


@dataclass(frozen=True)
class Provider:
    """One remote adapter, described so the shared failure tests can run against each."""

    name: str
    url: str
    settings: Callable[..., RoleSettings]
    adapter: Callable[..., ChatModel]
    events: Callable[..., list[bytes]]  # events(texts, complete=True)
    first_text: int  # index of the first text event in events(...)
    keepalive: bytes  # an event that carries no text
    host: str

    def complete(self, *texts: str) -> list[bytes]:
        return self.events(list(texts), complete=True)

    def head(self, first: str) -> list[bytes]:
        """Events up to and including the first text, and nothing after."""
        return self.events([first], complete=False)[: self.first_text + 1]

    def preamble(self) -> list[bytes]:
        """Events before any text."""
        return self.events([], complete=False)[: self.first_text]


PROVIDERS = [
    Provider(
        name="openai_compat",
        url=OPENAI_URL + "/chat/completions",
        settings=openai_settings,
        adapter=OpenAICompatModel,
        events=lambda texts, complete: openai_events(
            texts, finish="stop" if complete else None, usage=complete, done=complete
        ),
        first_text=1,
        keepalive=sse({"id": "c1", "choices": []}),
        host="api.example.test",
    ),
    Provider(
        name="anthropic",
        url=ANTHROPIC_URL + "/v1/messages",
        settings=anthropic_settings,
        adapter=AnthropicModel,
        events=lambda texts, complete: anthropic_events(texts, stop=complete),
        first_text=2,
        keepalive=sse({"type": "ping"}, "ping"),
        host="anthropic.example.test",
    ),
]
