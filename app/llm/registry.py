"""Maps a role's settings to the model adapter that serves it.

The only place that knows which adapter class belongs to which provider name. It must never
connect anywhere or read a key itself: adapters do that when they are used.
"""

from __future__ import annotations

import importlib
from typing import Literal

from app.llm.anthropic import AnthropicModel
from app.llm.base import ChatModel
from app.llm.openai_compat import OpenAICompatModel
from app.settings import RoleSettings


def build_model(settings: RoleSettings, *, role: Literal["client", "evaluator"]) -> ChatModel:
    """One model per role; each remote adapter owns one pooled HTTP client."""
    if settings.provider == "openai_compat":
        return OpenAICompatModel(settings, role=role)
    if settings.provider == "anthropic":
        return AnthropicModel(settings, role=role)
    # Loaded only when chosen, so the remote adapters never depend on the offline model.
    scripted = importlib.import_module("app.llm.scripted")
    model: ChatModel = scripted.ScriptedModel(role=role, delay_ms=settings.scripted_delay_ms)
    return model
