"""Every test here records retry waits instead of sleeping; `provider` runs a test per adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.llm.base import ChatModel

from ._support import PROVIDERS, Provider


@pytest.fixture(autouse=True)
def _retry_waits_recorded(sleeps: list[float]) -> None:
    """Every test here records retry waits instead of sleeping (see `sleeps`)."""


@pytest.fixture(params=PROVIDERS, ids=lambda provider: provider.name)
def provider(request: pytest.FixtureRequest) -> Provider:
    spec: Provider = request.param
    return spec


@pytest.fixture
async def make(provider: Provider) -> AsyncIterator[Callable[..., ChatModel]]:
    models: list[ChatModel] = []

    def build(**overrides: Any) -> ChatModel:
        model = provider.adapter(provider.settings(**overrides), role="client")
        models.append(model)
        return model

    yield build
    for model in models:
        await model.aclose()
