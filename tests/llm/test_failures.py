"""Failure handling shared by both remote adapters: HTTP statuses, rate limits, connections.

Client errors fail at once; rate limits wait as long as the server asks (capped); server
errors and refused connections are retried with jittered backoff, then reported.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from app.errors import (
    LLMAuthError,
    LLMBadRequest,
    LLMError,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
)
from app.llm.base import ChatModel, ChatRequest

from ._support import REQUEST, Provider, collect, safe, sse_response, text_of


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, LLMAuthError), (403, LLMAuthError), (400, LLMBadRequest), (404, LLMBadRequest)],
)
async def test_client_errors_are_not_retried(
    provider: Provider,
    make: Callable[..., ChatModel],
    respx_mock: respx.MockRouter,
    sleeps: list[float],
    status: int,
    error: type[LLMError],
) -> None:
    route = respx_mock.post(provider.url).mock(return_value=httpx.Response(status))
    with pytest.raises(error) as caught:
        await collect(make())
    assert route.call_count == 1
    assert sleeps == []
    safe(caught.value)
    assert not caught.value.retryable
    if status == 401:
        assert caught.value.message == (
            f"The model server at {provider.host} rejected the API key for the client role. "
            "Ask your administrator to check the key."
        )


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("2", 2.0), ("0.5", 0.5), ("3600", 30.0)],
)
async def test_rate_limit_waits_as_asked_then_succeeds(
    provider: Provider,
    make: Callable[..., ChatModel],
    respx_mock: respx.MockRouter,
    sleeps: list[float],
    retry_after: str,
    expected: float,
) -> None:
    route = respx_mock.post(provider.url).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": retry_after}),
            sse_response(provider.complete("Hello.")),
        ]
    )
    assert text_of(await collect(make())) == "Hello."
    assert route.call_count == 2
    assert sleeps == [expected]


async def test_rate_limit_retry_after_as_http_date(
    provider: Provider,
    make: Callable[..., ChatModel],
    respx_mock: respx.MockRouter,
    sleeps: list[float],
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    respx_mock.post(provider.url).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": when}),
            sse_response(provider.complete("Hello.")),
        ]
    )
    assert text_of(await collect(make())) == "Hello."
    assert len(sleeps) == 1
    assert 7.0 <= sleeps[0] <= 10.0


async def test_rate_limit_exhausting_retries(
    provider: Provider,
    make: Callable[..., ChatModel],
    respx_mock: respx.MockRouter,
    sleeps: list[float],
) -> None:
    route = respx_mock.post(provider.url).mock(
        return_value=httpx.Response(429, headers={"Retry-After": "2"})
    )
    with pytest.raises(LLMRateLimited) as caught:
        await collect(make(max_retries=2))
    assert caught.value.retry_after == 2.0
    assert route.call_count == 3
    assert sleeps == [2.0, 2.0]
    assert "Wait 2 seconds" in safe(caught.value).message


async def test_server_errors_then_success(
    provider: Provider,
    make: Callable[..., ChatModel],
    respx_mock: respx.MockRouter,
    sleeps: list[float],
) -> None:
    route = respx_mock.post(provider.url).mock(
        side_effect=[
            httpx.Response(500),
            httpx.Response(502),
            httpx.Response(503),
            sse_response(provider.complete("Back.")),
        ]
    )
    assert text_of(await collect(make(max_retries=3))) == "Back."
    assert route.call_count == 4
    # Jittered exponential backoff: each wait lies within [half, full] of 0.5 s, 1 s, 2 s.
    assert [0.25 <= sleeps[0] <= 0.5, 0.5 <= sleeps[1] <= 1.0, 1.0 <= sleeps[2] <= 2.0] == [
        True
    ] * 3


@pytest.mark.parametrize("status", [500, 503, 529])
async def test_server_errors_exhausting_retries(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter, status: int
) -> None:
    route = respx_mock.post(provider.url).mock(return_value=httpx.Response(status))
    with pytest.raises(LLMUnavailable) as caught:
        await collect(make(max_retries=2))
    assert route.call_count == 3
    assert f"HTTP {status}" in safe(caught.value).message


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), LLMUnavailable),
        (httpx.ConnectTimeout("timed out"), LLMTimeout),
    ],
)
async def test_connection_failures_are_retried_then_reported(
    provider: Provider,
    make: Callable[..., ChatModel],
    respx_mock: respx.MockRouter,
    failure: Exception,
    error: type[LLMError],
) -> None:
    route = respx_mock.post(provider.url).mock(side_effect=failure)
    with pytest.raises(error) as caught:
        await collect(make())
    assert route.call_count == 3
    assert provider.host in safe(caught.value).message


async def test_connection_refused_then_success(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(provider.url).mock(
        side_effect=[httpx.ConnectError("refused"), sse_response(provider.complete("Up."))]
    )
    assert text_of(await collect(make())) == "Up."
    assert route.call_count == 2


def json_reply(provider: Provider) -> httpx.Response:
    if provider.name == "anthropic":
        return httpx.Response(200, json={"content": [{"type": "text", "text": "{}"}]})
    return httpx.Response(200, json={"choices": [{"message": {"content": "{}"}}]})


async def test_complete_json_retries_server_errors(
    provider: Provider,
    make: Callable[..., ChatModel],
    respx_mock: respx.MockRouter,
    sleeps: list[float],
) -> None:
    route = respx_mock.post(provider.url).mock(
        side_effect=[httpx.Response(503), httpx.ConnectError("refused"), json_reply(provider)]
    )
    assert (await make().complete_json(ChatRequest(messages=REQUEST.messages))).text == "{}"
    assert route.call_count == 3
    assert len(sleeps) == 2


async def test_complete_json_auth_failure_is_not_retried(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(provider.url).mock(return_value=httpx.Response(401))
    with pytest.raises(LLMAuthError) as caught:
        await make().complete_json(ChatRequest(messages=REQUEST.messages))
    assert route.call_count == 1
    safe(caught.value)


async def test_missing_key_is_named_as_missing(
    provider: Provider, make: Callable[..., ChatModel], respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(provider.url).mock(return_value=httpx.Response(401))
    with pytest.raises(LLMAuthError) as caught:
        await collect(make(api_key=""))
    assert "needs an API key for the client role and none is set" in caught.value.message
