"""Adapter for the Anthropic Messages API.

Leading system messages become the top-level `system` field (a prompt-cache breakpoint); a
later system note is sent inside the next user message, so the cached prefix stays stable.
Streamed text comes from `text_delta` events; tool input, thinking and pings carry no text
and only show the server is alive.
Stop reasons are reported in the OpenAI vocabulary where one exists (`end_turn` → `stop`,
`max_tokens` → `length`) so callers check one set of words whichever provider answers.

It must never log or echo the API key or any message content.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

import httpx

from app.errors import LLMError
from app.llm._http import (
    Endpoint,
    bad_response,
    build_client,
    interrupted,
    load_json,
    post_json,
    retrying_stream,
    sse_events,
    status_error,
)
from app.llm.base import ChatMessage, ChatRequest, JsonCompletion, StreamChunk, Usage
from app.settings import RoleSettings

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
JSON_INSTRUCTION = "Respond with one JSON object only"

_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}

# Anthropic's error types, by the HTTP status that means the same thing.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class AnthropicModel:
    def __init__(
        self, settings: RoleSettings, *, role: str, client: httpx.AsyncClient | None = None
    ) -> None:
        self._settings = settings
        # Accept a base URL given with or without the version segment.
        base = (settings.base_url or DEFAULT_BASE_URL).rstrip("/").removesuffix("/v1")
        self._url = f"{base}/v1/messages"
        self._endpoint = Endpoint.of(settings, role=role, base_url=base)
        self._owns_client = client is None
        self._client = client if client is not None else build_client(settings)

    @property
    def label(self) -> str:
        return f"{self._settings.model} via {self._endpoint.host}"

    @property
    def offline(self) -> bool:
        return False

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        payload = self._payload(request, system_suffix=None)
        payload["stream"] = True
        return retrying_stream(self._endpoint, lambda: self._attempt(payload))

    async def complete_json(self, request: ChatRequest) -> JsonCompletion:
        suffix = JSON_INSTRUCTION + "."
        if request.json_schema is not None:
            schema = json.dumps(request.json_schema, separators=(",", ":"))
            suffix = f"{JSON_INSTRUCTION}, matching this JSON Schema: {schema}"
        body = await post_json(
            self._client,
            self._url,
            headers=self._headers(),
            payload=self._payload(request, system_suffix=suffix),
            endpoint=self._endpoint,
        )
        blocks = body.get("content")
        if not isinstance(blocks, list):
            raise bad_response(self._endpoint)
        text = "".join(
            block["text"]
            for block in blocks
            if isinstance(block, dict)
            and block.get("type") == "text"
            and isinstance(block.get("text"), str)
        )
        counts: dict[str, int] = {}
        _merge_usage(counts, body.get("usage"))
        return JsonCompletion(text=text, usage=_usage(counts))

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def _headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        key = self._settings.api_key.get_secret_value()
        if key:
            headers["x-api-key"] = key
        return headers

    def _payload(self, request: ChatRequest, *, system_suffix: str | None) -> dict[str, Any]:
        settings = self._settings
        count = next(
            (i for i, m in enumerate(request.messages) if m.role != "system"),
            len(request.messages),
        )
        system = [m.content for m in request.messages[:count]]
        if system_suffix:
            system.append(system_suffix)
        payload: dict[str, Any] = {
            "model": settings.model,
            "max_tokens": request.max_tokens or settings.max_tokens,
            "temperature": (
                request.temperature if request.temperature is not None else settings.temperature
            ),
            "messages": _messages(request.messages[count:]),
        }
        if system:
            # The stable system prompt is a cache breakpoint (prompt caching).
            payload["system"] = [
                {"type": "text", "text": "\n\n".join(system), "cache_control": _EPHEMERAL}
            ]
        return payload

    async def _attempt(self, payload: dict[str, Any]) -> AsyncGenerator[StreamChunk, None]:
        endpoint = self._endpoint
        counts: dict[str, int] = {}
        stop_reason: str | None = None
        stopped = False
        events = sse_events(
            self._client, self._url, headers=self._headers(), payload=payload, endpoint=endpoint
        )
        async with aclosing(events):
            async for event in events:
                data = load_json(endpoint, event.data)
                kind = data.get("type")
                if kind == "message_start":
                    message = data.get("message")
                    _merge_usage(
                        counts, message.get("usage") if isinstance(message, dict) else None
                    )
                elif kind == "content_block_delta":
                    delta = data.get("delta")
                    if isinstance(delta, dict) and delta.get("type") == "text_delta":
                        text = delta.get("text")
                        if isinstance(text, str) and text:
                            yield StreamChunk(text=text)
                elif kind == "message_delta":
                    delta = data.get("delta")
                    reason = delta.get("stop_reason") if isinstance(delta, dict) else None
                    stop_reason = reason if isinstance(reason, str) else stop_reason
                    _merge_usage(counts, data.get("usage"))
                elif kind == "message_stop":
                    stopped = True
                    break
                elif kind == "error":
                    raise _stream_error(endpoint, data.get("error"))
                yield StreamChunk()  # activity, including pings: resets the idle timer
        if not stopped:
            raise interrupted(endpoint)
        reason = stop_reason or "end_turn"
        yield StreamChunk(usage=_usage(counts), finish_reason=_STOP_REASONS.get(reason, reason))


_EPHEMERAL = {"type": "ephemeral"}


def _messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Conversation messages; a later system note joins the user message after it.

    The Messages API takes system text only at the top, where a note that changes every turn
    would spoil the cached prefix. So the note becomes the first block of the next user message,
    and the message before the note ends the cacheable prefix (a cache breakpoint).
    """
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    for message in messages:
        if message.role == "system":
            if not notes and out:
                out[-1]["content"] = _blocks(out[-1]["content"], cache=True)
            notes.append(message.content)
            continue
        if notes and message.role == "user":
            content: Any = [*_blocks("\n\n".join(notes)), *_blocks(message.content)]
            notes = []
        else:
            content = message.content
        out.append({"role": message.role, "content": content})
    if notes:
        out.append({"role": "user", "content": _blocks("\n\n".join(notes))})
    return out


def _blocks(content: Any, *, cache: bool = False) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = (
        list(content) if isinstance(content, list) else [{"type": "text", "text": content}]
    )
    if cache:
        blocks[-1] = {**blocks[-1], "cache_control": _EPHEMERAL}
    return blocks


_USAGE_FIELDS = (
    "input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_tokens",
)


def _merge_usage(counts: dict[str, int], raw: Any) -> None:
    """Update running counts: later events only carry the counts that changed."""
    if not isinstance(raw, dict):
        return
    for name in _USAGE_FIELDS:
        value = raw.get(name)
        if isinstance(value, int) and value >= 0:
            counts[name] = value


def _usage(counts: dict[str, int]) -> Usage:
    cached = counts.get("cache_read_input_tokens", 0)
    # Anthropic counts cached prompt tokens apart from input_tokens; OpenAI's prompt_tokens
    # includes them. Report the OpenAI meaning so usage compares across providers.
    return Usage(
        input_tokens=counts.get("input_tokens", 0)
        + cached
        + counts.get("cache_creation_input_tokens", 0),
        output_tokens=counts.get("output_tokens", 0),
        cached_tokens=cached,
    )


def _stream_error(endpoint: Endpoint, error: Any) -> LLMError:
    kind = error.get("type") if isinstance(error, dict) else None
    status = _ERROR_STATUS.get(kind) if isinstance(kind, str) else None
    if status is None:
        return bad_response(endpoint)
    return status_error(endpoint, status, {})
