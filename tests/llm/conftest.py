"""Every test here records retry waits instead of sleeping; `provider` runs a test per adapter;
the socket layer's tests run on both event loops the service may use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
import uvloop

from app.llm.base import ChatModel

from ._support import PROVIDERS, Provider


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """`test_wire.py` on the standard loop and on uvloop (uvicorn's choice when installed)."""
    if item.path.name == "test_wire.py":
        return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}


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
