"""Settings choose the adapter; the scripted model is loaded only when chosen."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from app.llm.anthropic import AnthropicModel
from app.llm.base import ChatModel
from app.llm.openai_compat import OpenAICompatModel
from app.llm.registry import build_model
from app.settings import RoleSettings

from ._support import anthropic_settings, openai_settings


@pytest.mark.parametrize(
    ("settings", "adapter"),
    [(openai_settings(), OpenAICompatModel), (anthropic_settings(), AnthropicModel)],
)
async def test_remote_providers(settings: RoleSettings, adapter: type[Any]) -> None:
    model = build_model(settings, role="client")
    assert isinstance(model, adapter)
    assert isinstance(model, ChatModel)
    assert model.offline is False
    await model.aclose()


def test_scripted_provider_is_imported_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []

    class FakeScripted:
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)

    fake = types.ModuleType("app.llm.scripted")
    fake.ScriptedModel = FakeScripted  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.llm.scripted", fake)
    model = build_model(RoleSettings(provider="scripted", scripted_delay_ms=7), role="evaluator")
    assert isinstance(model, FakeScripted)
    assert made == [{"role": "evaluator", "delay_ms": 7}]
