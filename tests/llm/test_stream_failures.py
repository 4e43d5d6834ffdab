"""Broken and slow streams, for both remote adapters.

The rule under test: retry only while nothing has reached the caller; after text has flowed,
fail at once with `LLMStreamInterrupted` (or `LLMTimeout` for an idle gap). A malformed JSON
event is `LLMBadResponse` and is not retried: a server sending unreadable data is
misconfigured, not busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
import respx

from app.errors import LLMBadResponse, LLMStreamInterrupted, LLMTimeout, LLMUnavailable
from app.llm.base import ChatModel

from ._support import Body, Part, Provider, collect, drain, safe, sse_response, text_of


def body_factory(
    parts: list[Part], bodies: list[Body]
) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        body = Body(parts)
        bodies.append(body)
        return httpx.Response(200, stream=body)

    return respond


async def test_first_token_timeout_is_retried_then_reported(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    bodies: list[Body] = []
    # Events that carry no text do not count as the first token.
    parts: list[Part] = [*provider.preamble(), provider.keepalive, 5.0]
    route = respx_mock.post(provider.url).mock(side_effect=body_factory(parts, bodies))
    with pytest.raises(LLMTimeout) as caught:
        await collect(make(first_token_timeout=0.05))
    assert route.call_count == 3
    assert all(body.closed for body in bodies)
    assert "did not start answering within 0.05 s" in safe(caught.value).message


async def test_first_token_timeout_then_success(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(provider.url).mock(
        side_effect=[
            sse_response([5.0]),
            sse_response(provider.complete("Made it.")),
        ]
    )
    assert text_of(await collect(make(first_token_timeout=0.05))) == "Made it."
    assert route.call_count == 2


async def test_idle_gap_after_text_is_a_timeout_without_retry(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    body = Body([*provider.head("Started"), 5.0, *provider.complete("unused")])
    route = respx_mock.post(provider.url).mock(return_value=httpx.Response(200, stream=body))
    seen: list[str] = []
    with pytest.raises(LLMTimeout) as caught:
        await drain(make(idle_timeout=0.05), seen)
    assert "".join(seen) == "Started"
    assert route.call_count == 1
    assert body.closed
    assert "part-way" in safe(caught.value).message


async def test_events_without_text_keep_a_slow_stream_alive(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    # Five gaps of 0.15 s outlast the 0.5 s idle limit only if the keep-alive events are ignored.
    alive: list[Part] = [part for _ in range(5) for part in (0.15, provider.keepalive)]
    events = provider.complete("Slow", " but", " steady.")
    tail = events[provider.first_text + 1 :]
    respx_mock.post(provider.url).mock(
        return_value=sse_response([*events[: provider.first_text + 1], *alive, *tail])
    )
    assert text_of(await collect(make(idle_timeout=0.5))) == "Slow but steady."


async def test_stream_cut_off_after_text_is_interrupted_without_retry(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    incomplete = provider.events(["Half", " a reply"], complete=False)
    route = respx_mock.post(provider.url).mock(
        side_effect=[sse_response(incomplete), sse_response(provider.complete("unused"))]
    )
    seen: list[str] = []
    with pytest.raises(LLMStreamInterrupted) as caught:
        await drain(make(), seen)
    assert "".join(seen) == "Half a reply"
    assert route.call_count == 1
    safe(caught.value)


async def test_stream_cut_off_before_text_is_retried(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(provider.url).mock(
        side_effect=[sse_response(provider.preamble()), sse_response(provider.complete("Whole."))]
    )
    assert text_of(await collect(make())) == "Whole."
    assert route.call_count == 2


async def test_no_retry_once_text_has_been_yielded(
    provider: Provider,
    make: Callable[..., ChatModel],
    respx_mock: respx.MockRouter,
    sleeps: list[float],
) -> None:
    broken = sse_response([*provider.head("Hello"), httpx.ReadError("connection reset")])
    route = respx_mock.post(provider.url).mock(
        side_effect=[broken, sse_response(provider.complete("Hello again."))]
    )
    seen: list[str] = []
    with pytest.raises(LLMStreamInterrupted) as caught:
        await drain(make(), seen)
    assert "".join(seen) == "Hello"
    assert route.call_count == 1
    assert sleeps == []
    assert isinstance(caught.value.__cause__, LLMUnavailable)


async def test_transport_failure_before_text_is_retried(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    broken = sse_response([*provider.preamble(), httpx.RemoteProtocolError("peer closed")])
    route = respx_mock.post(provider.url).mock(
        side_effect=[broken, sse_response(provider.complete("Fine."))]
    )
    assert text_of(await collect(make())) == "Fine."
    assert route.call_count == 2


async def test_malformed_json_before_text_is_a_bad_response(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(provider.url).mock(
        return_value=sse_response([*provider.preamble(), b"data: {not json\n\n"])
    )
    with pytest.raises(LLMBadResponse) as caught:
        await collect(make())
    assert route.call_count == 1
    assert not safe(caught.value).retryable


async def test_malformed_json_after_text_interrupts(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(provider.url).mock(
        return_value=sse_response([*provider.head("Some"), b'data: {"choices": [\n\n'])
    )
    seen: list[str] = []
    with pytest.raises(LLMStreamInterrupted) as caught:
        await drain(make(), seen)
    assert seen == ["Some"]
    assert isinstance(caught.value.__cause__, LLMBadResponse)
    assert route.call_count == 1


async def test_web_page_instead_of_a_model_server(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    page = httpx.Response(200, headers={"content-type": "text/html"}, text="<html></html>")
    route = respx_mock.post(provider.url).mock(return_value=page)
    with pytest.raises(LLMBadResponse) as caught:
        await collect(make())
    assert route.call_count == 1
    assert "base URL" in safe(caught.value).message


async def test_a_stream_longer_than_the_idle_limit_runs_while_its_gaps_are_short(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    # Twelve gaps of 0.03 s take three times the 0.12 s idle limit in all: one timer per
    # stream must move with the reads, not fire at the first deadline it was set for.
    words = [f" w{k}" for k in range(12)]
    events = provider.complete(*words)
    head, tail = events[: provider.first_text], events[provider.first_text :]
    paced: list[Part] = [part for event in tail for part in (0.03, event)]
    respx_mock.post(provider.url).mock(return_value=sse_response([*head, *paced]))
    assert text_of(await collect(make(idle_timeout=0.12))) == "".join(words)


async def test_a_cancelled_reader_is_cancelled_not_timed_out(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    # The trainee leaving cancels the turn mid-read: that must stay a cancellation.
    events = provider.complete("Still", " talking")
    respx_mock.post(provider.url).mock(
        return_value=sse_response([*events[: provider.first_text + 1], 5.0])
    )
    seen: list[str] = []
    reading = asyncio.create_task(drain(make(idle_timeout=0.2), seen))
    while not seen:
        await asyncio.sleep(0.01)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    await asyncio.sleep(0.3)  # past the idle limit: no timer may fire into another task
    assert seen == ["Still"]
