"""Message layouts for servers whose chat templates are strict about roles.

Many self-hosted models (Mistral, Gemma and others served by vLLM or llama.cpp) use chat templates
that accept one system message at the start and then strictly alternating user and assistant
turns beginning with the user; anything else is refused with an error such as "Conversation roles
must alternate user/assistant/user/assistant". The conversation the service sends has the client's
opening line first (an assistant turn) and a short system note about the moment just before the
counsellor's newest words. With `strict_roles` on, this module folds the request into the strict
shape without losing anything: the system messages become one leading system message or are
carried inside the next user turn as a marked note, the opening is preceded by a neutral user
turn, and consecutive turns of one role are joined.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from app.llm.base import ChatMessage, ChatModel, ChatRequest, JsonCompletion, StreamChunk

SESSION_BEGINS = "(The session begins.)"


def _noted(notes: list[str], content: str) -> str:
    return "\n\n".join([*(f"[{note.strip()}]" for note in notes), content]).strip()


def strict_alternation(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """One leading system message, then user/assistant turns alternating from the user."""
    rest = list(messages)
    leading: list[str] = []
    while rest and rest[0].role == "system":
        leading.append(rest.pop(0).content)
    turns: list[ChatMessage] = []
    notes: list[str] = []  # later system messages, carried by the next user turn
    for message in rest:
        if message.role == "system":
            notes.append(message.content)
            continue
        content = message.content
        if message.role == "user":
            content, notes = _noted(notes, content), []
        elif not turns:
            turns.append(ChatMessage("user", SESSION_BEGINS))
        if turns and turns[-1].role == message.role:
            turns[-1] = ChatMessage(message.role, f"{turns[-1].content}\n\n{content}")
        else:
            turns.append(ChatMessage(message.role, content))
    if notes:
        if turns and turns[-1].role == "user":
            turns[-1] = ChatMessage("user", f"{turns[-1].content}\n\n{_noted(notes, '')}")
        else:
            turns.append(ChatMessage("user", _noted(notes, "")))
    system = [ChatMessage("system", "\n\n".join(leading))] if leading else []
    return system + turns


class StrictRoles:
    """Wraps a model so that every request it receives has the strict layout."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model

    @property
    def label(self) -> str:
        return self.model.label

    @property
    def offline(self) -> bool:
        return self.model.offline

    def _shape(self, request: ChatRequest) -> ChatRequest:
        return replace(request, messages=strict_alternation(request.messages))

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        async for chunk in self.model.stream(self._shape(request)):
            yield chunk

    async def complete_json(self, request: ChatRequest) -> JsonCompletion:
        return await self.model.complete_json(self._shape(request))

    async def aclose(self) -> None:
        await self.model.aclose()
