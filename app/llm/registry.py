"""Maps a role's settings to the model adapter that serves it.

The only place that knows which adapter class belongs to which provider name. It must never
connect anywhere or read a key itself: adapters do that when they are used.

A role with `fallbacks` gets a `FailoverModel`: its endpoints are tried in order, and a request
moves on to the next only while nothing has reached the caller (before the first token of a
stream). Each endpoint first makes its own retries.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Literal

from app.errors import LLMError
from app.llm.anthropic import AnthropicModel
from app.llm.base import ChatModel, ChatRequest, JsonCompletion, StreamChunk
from app.llm.layout import StrictRoles
from app.llm.openai_compat import OpenAICompatModel
from app.observability.metrics import FAILOVERS
from app.settings import RoleSettings

log = logging.getLogger(__name__)


def build_model(settings: RoleSettings, *, role: Literal["client", "evaluator"]) -> ChatModel:
    """One model per role; each remote adapter owns one pooled HTTP client."""
    endpoints = settings.endpoints()
    if len(endpoints) > 1:
        return FailoverModel([_adapter(each, role=role) for each in endpoints], role=role)
    return _adapter(endpoints[0], role=role)


def _adapter(settings: RoleSettings, *, role: Literal["client", "evaluator"]) -> ChatModel:
    if settings.provider == "openai_compat":
        adapter: ChatModel = OpenAICompatModel(settings, role=role)
        return StrictRoles(adapter) if settings.strict_roles else adapter
    if settings.provider == "anthropic":
        return AnthropicModel(settings, role=role)
    # Loaded only when chosen, so the remote adapters never depend on the offline model.
    scripted = importlib.import_module("app.llm.scripted")
    model: ChatModel = scripted.ScriptedModel(role=role, delay_ms=settings.scripted_delay_ms)
    return model


def _failed_over(role: str, position: int, exc: LLMError) -> None:
    FAILOVERS.labels(role=role).inc()
    log.warning(
        "%s model endpoint %d failed (%s); trying endpoint %d",
        role,
        position + 1,
        exc.kind,
        position + 2,
        extra={"role": role, "kind": exc.kind},
    )


class FailoverModel:
    """Endpoints of one role in order; the first that answers serves the request."""

    def __init__(self, models: Sequence[ChatModel], *, role: str) -> None:
        if not models:
            raise ValueError("FailoverModel needs at least one model")
        self.models = list(models)
        self.role = role

    @property
    def label(self) -> str:
        return self.models[0].label

    @property
    def offline(self) -> bool:
        return False

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        last = len(self.models) - 1
        for position, model in enumerate(self.models):
            started = False
            try:
                async for chunk in model.stream(request):
                    started = started or bool(chunk.text)
                    yield chunk
                return
            except LLMError as exc:
                # After the first token the trainee has seen text from this endpoint: another
                # server cannot continue it, so the failure is reported as it is.
                if started or position == last:
                    raise
                _failed_over(self.role, position, exc)

    async def complete_json(self, request: ChatRequest) -> JsonCompletion:
        last = len(self.models) - 1
        for position, model in enumerate(self.models):
            try:
                return await model.complete_json(request)
            except LLMError as exc:
                if position == last:
                    raise
                _failed_over(self.role, position, exc)
        raise AssertionError("unreachable: the last endpoint's failure is raised")

    async def aclose(self) -> None:
        for model in self.models:
            await model.aclose()
