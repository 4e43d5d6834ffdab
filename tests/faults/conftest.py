"""Fixtures for the fault campaign: retry waits are recorded instead of slept."""

from __future__ import annotations

import asyncio

import pytest

from app.llm import _http


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)
        await asyncio.sleep(0)

    monkeypatch.setattr(_http, "sleep", record)
    return delays
