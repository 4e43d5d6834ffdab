"""Prometheus metrics, scraped from /metrics after real conversations through the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app.errors import LLMUnavailable
from app.llm.base import ChatRequest, StreamChunk, Usage
from app.storage.tables import Turn
from tests.conftest import AppHarness
from tests.doubles import FunctionModel

Labels = dict[str, str]


async def scrape(h: AppHarness) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await h.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def value(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def cached_reply(request: ChatRequest) -> AsyncIterator[StreamChunk]:
    await asyncio.sleep(0.02)  # the upstream part of the first token
    for word in ("Well,", " I", " suppose", " so."):
        yield StreamChunk(text=word)
    yield StreamChunk(
        usage=Usage(input_tokens=1200, output_tokens=4, cached_tokens=1024), finish_reason="stop"
    )


async def test_a_conversation_is_counted(make_harness: Any) -> None:
    async with make_harness(client_model=FunctionModel(stream=cached_reply)) as h:
        await h.sign_in()
        session = await h.start(next(iter(h.services.personas)))
        before = await scrape(h)
        parent = None
        for text in ("Hello, where would you like to start?", "That sounds hard."):
            events = await h.turn(session["id"], text, parent_id=parent)
            parent = next(d["turn_id"] for n, d in events if n == "turn")
        after = await scrape(h)
        async with h.services.database.session() as db:
            stored = list(await db.scalars(select(Turn.cached_tokens)))

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("alliance_tokens_total", role="client", direction="in") == 2400
    assert delta("alliance_tokens_total", role="client", direction="out") == 8
    assert delta("alliance_tokens_total", role="client", direction="cached") == 2048
    assert stored == [1024, 1024]  # cached tokens are kept with each turn's usage
    for part in ("upstream", "overhead"):
        assert delta("alliance_time_to_first_token_seconds_count", part=part) == 2
    # The model's own delay is counted upstream, not as our overhead.
    assert delta("alliance_time_to_first_token_seconds_sum", part="upstream") >= 0.04
    assert delta("alliance_critique_seconds_count") == 2
    assert value(after, "alliance_active_streams") == 0


async def test_a_reply_in_progress_is_an_active_stream(make_harness: Any) -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        yield StreamChunk(text="Hmm.")
        started.set()
        await release.wait()
        yield StreamChunk(usage=Usage(input_tokens=10, output_tokens=1), finish_reason="stop")

    async with make_harness(client_model=FunctionModel(stream=slow)) as h:
        await h.sign_in()
        session = await h.start(next(iter(h.services.personas)))
        baseline = value(await scrape(h), "alliance_active_streams")
        turn = asyncio.create_task(h.turn(session["id"], "Take your time."))
        await asyncio.wait_for(started.wait(), 5)
        during = value(await scrape(h), "alliance_active_streams")
        release.set()
        await turn
        after = value(await scrape(h), "alliance_active_streams")
    assert during == baseline + 1
    assert after == baseline


async def test_failures_are_counted_by_kind(make_harness: Any) -> None:
    async def down(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        raise LLMUnavailable("The model server is unavailable.")
        yield StreamChunk()  # pragma: no cover - makes this an async generator

    async with make_harness(client_model=FunctionModel(stream=down)) as h:
        await h.sign_in()
        session = await h.start(next(iter(h.services.personas)))
        before = await scrape(h)
        events = await h.turn(session["id"], "Hello.")
        after = await scrape(h)
    assert [d["kind"] for n, d in events if n == "error"] == ["llm_unavailable"]
    labels = {"stage": "reply", "kind": "llm_unavailable"}
    assert value(after, "alliance_errors_total", **labels) == (
        value(before, "alliance_errors_total", **labels) + 1
    )
    model_labels = {"stage": "client_model", "kind": "llm_unavailable"}
    assert value(after, "alliance_errors_total", **model_labels) == (
        value(before, "alliance_errors_total", **model_labels) + 1
    )


async def test_metrics_can_be_turned_off(make_harness: Any) -> None:
    async with make_harness(metrics_enabled=False) as h:
        response = await h.client.get("/metrics")
    assert response.status_code == 404
    assert "ALLIANCE_METRICS_ENABLED" in response.json()["detail"]
