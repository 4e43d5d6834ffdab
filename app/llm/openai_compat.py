"""Adapter for any server that speaks the OpenAI Chat Completions API.

Covers OpenAI, Azure OpenAI, vLLM, Ollama's `/v1`, llama.cpp server, LM Studio, LiteLLM and
OpenRouter. Servers differ in small ways (extra keys, role-only or usage-only chunks, no usage at
all, no `[DONE]`), so parsing reads only what it needs and ignores the rest.

It must never log or echo the API key or any message content.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx

from app.errors import LLMError
from app.llm._http import (
    Endpoint,
    RequestRejected,
    bad_response,
    build_client,
    interrupted,
    load_json,
    post_json,
    retrying_stream,
    sse_events,
    status_error,
)
from app.llm.base import ChatRequest, JsonCompletion, StreamChunk, Usage
from app.settings import RoleSettings

# Words in a 400 body that mean "this server does not support that response_format".
_FORMAT_COMPLAINTS = ("response_format", "response format", "json_schema", "json_object")


class OpenAICompatModel:
    def __init__(
        self, settings: RoleSettings, *, role: str, client: httpx.AsyncClient | None = None
    ) -> None:
        self._settings = settings
        self._base = settings.base_url.rstrip("/")
        self._url = f"{self._base}/chat/completions"
        self._endpoint = Endpoint.of(settings, role=role, base_url=self._base)
        self._owns_client = client is None
        self._client = client if client is not None else build_client(settings)

    @property
    def label(self) -> str:
        return f"{self._settings.model} via {self._endpoint.host}"

    @property
    def offline(self) -> bool:
        return False

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        payload = self._payload(request)
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
        return retrying_stream(self._endpoint, lambda: self._attempt(payload))

    async def complete_json(self, request: ChatRequest) -> JsonCompletion:
        base = self._payload(request)
        formats: list[dict[str, Any] | None] = [{"type": "json_object"}, None]
        if request.json_schema is not None:
            schema = {"name": request.schema_name, "schema": request.json_schema, "strict": False}
            formats.insert(0, {"type": "json_schema", "json_schema": schema})
        # Servers vary in which response_format they accept: fall back one step at a time,
        # and only when the refusal is about the format (anything else is a real error).
        for position, response_format in enumerate(formats):
            payload = dict(base)
            if response_format is not None:
                payload["response_format"] = response_format
            try:
                body = await post_json(
                    self._client,
                    self._url,
                    headers=self._headers(),
                    payload=payload,
                    endpoint=self._endpoint,
                    pass_back_rejections=position < len(formats) - 1,
                )
            except RequestRejected as rejected:
                if any(word in rejected.body.lower() for word in _FORMAT_COMPLAINTS):
                    continue
                raise status_error(self._endpoint, rejected.status, {}) from None
            return self._json_completion(body)
        raise AssertionError("unreachable: the last format is never passed back")

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def _headers(self) -> dict[str, str]:
        key = self._settings.api_key.get_secret_value()
        if not key:
            return {}  # local servers (Ollama, llama.cpp) need no key
        headers = {"Authorization": f"Bearer {key}"}
        if self._endpoint.host.endswith(".azure.com"):
            headers["api-key"] = key  # Azure OpenAI authenticates keys with this header
        return headers

    def _payload(self, request: ChatRequest) -> dict[str, Any]:
        settings = self._settings
        return {
            "model": settings.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens or settings.max_tokens,
            "temperature": (
                request.temperature if request.temperature is not None else settings.temperature
            ),
        }

    async def _attempt(self, payload: dict[str, Any]) -> AsyncGenerator[StreamChunk, None]:
        endpoint = self._endpoint
        usage: Usage | None = None
        finish_reason: str | None = None
        done = False
        events = sse_events(
            self._client, self._url, headers=self._headers(), payload=payload, endpoint=endpoint
        )
        async with aclosing(events):
            async for event in events:
                if event.data.strip() == "[DONE]":
                    done = True
                    break
                chunk = load_json(endpoint, event.data)
                if chunk.get("error"):
                    raise _stream_error(endpoint, chunk["error"])
                if isinstance(chunk.get("usage"), dict):
                    usage = _usage(chunk["usage"])
                relayed = False
                for choice in chunk.get("choices") or []:
                    text, reason = _read_choice(choice)
                    if text:
                        relayed = True
                        yield StreamChunk(text=text)
                    finish_reason = reason or finish_reason
                if not relayed:
                    yield StreamChunk()  # activity without text: resets the idle timer
        # llama.cpp and some proxies end after finish_reason without sending [DONE].
        if not done and finish_reason is None:
            raise interrupted(endpoint)
        yield StreamChunk(usage=usage, finish_reason=finish_reason or "stop")

    def _json_completion(self, body: dict[str, Any]) -> JsonCompletion:
        choices = body.get("choices")
        first = choices[0] if isinstance(choices, list) and choices else None
        message = first.get("message") if isinstance(first, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise bad_response(self._endpoint)
        usage = _usage(body["usage"]) if isinstance(body.get("usage"), dict) else Usage()
        return JsonCompletion(text=content, usage=usage)


def _read_choice(choice: Any) -> tuple[str, str | None]:
    """Text and finish reason of one streamed choice; tool-call deltas carry no text."""
    if not isinstance(choice, dict) or choice.get("index", 0) != 0:
        return "", None
    delta = choice.get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    reason = choice.get("finish_reason")
    return (
        content if isinstance(content, str) else "",
        reason if isinstance(reason, str) and reason else None,
    )


def _usage(raw: dict[str, Any]) -> Usage:
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return Usage(
        input_tokens=_count(raw.get("prompt_tokens")),
        output_tokens=_count(raw.get("completion_tokens")),
        cached_tokens=_count(cached),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _stream_error(endpoint: Endpoint, error: Any) -> LLMError:
    """An error object sent inside the stream (vLLM, LiteLLM and OpenRouter do this)."""
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    status = code if isinstance(code, int) and 400 <= code <= 599 else 503
    return status_error(endpoint, status, {})
