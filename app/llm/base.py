"""The one small interface every model adapter implements.

A `ChatModel` streams text for the simulated client and completes JSON for the evaluator.
The relay and the evaluator take a `ChatModel` and never import an adapter; `app.llm.registry`
maps settings to adapters. Adapters must never log message content or API keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What to ask a model.

    `scene` is a structured view of the same situation the messages describe (for the client
    role, `app.dialogue.scene.ClientScene`; for the evaluator, `app.evaluator.schema.JudgeInput`).
    Remote models ignore it; the offline scripted model reads it instead of parsing prose.
    """

    messages: Sequence[ChatMessage]
    max_tokens: int | None = None
    temperature: float | None = None
    json_schema: dict[str, Any] | None = None
    schema_name: str = "response"
    scene: Any = None


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One piece of a streamed reply: text, and on the last chunk usage and finish reason."""

    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class JsonCompletion:
    """The raw text of a JSON completion; the caller validates it against its schema."""

    text: str
    usage: Usage = field(default_factory=Usage)


@runtime_checkable
class ChatModel(Protocol):
    """A model endpoint for one role.

    `stream` yields chunks as they arrive. Retries happen inside the adapter and only before the
    first chunk with text has been yielded; after that a failure raises `LLMStreamInterrupted`
    (or `LLMTimeout` for an idle gap). Every failure is an `app.errors.LLMError`.
    """

    @property
    def label(self) -> str:
        """Who answers, for people: e.g. `openai_compat gpt-4o-mini` or `offline demo model`."""
        ...

    @property
    def offline(self) -> bool:
        """True for the scripted model, which needs no network and no key."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]: ...

    async def complete_json(self, request: ChatRequest) -> JsonCompletion: ...

    async def aclose(self) -> None: ...
