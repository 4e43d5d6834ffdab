"""The incremental SSE parser, and the small pure helpers beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from app.errors import LLMRateLimited, LLMUnavailable
from app.llm._http import (
    MAX_RETRY_AFTER,
    SSEDecoder,
    SSEEvent,
    backoff_delay,
    client_limits,
    client_timeout,
    parse_retry_after,
)

from ._support import FIXTURES, openai_settings, split_at, split_every


def parse(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.flush()


def test_basic_events_with_names_and_default_type() -> None:
    events = parse(b"event: ping\ndata: {}\n\ndata: hello\n\n")
    assert events == [SSEEvent("ping", "{}"), SSEEvent("message", "hello")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_line_endings_are_equivalent(newline: bytes) -> None:
    raw = b"event: a\ndata: one\ndata: two\n\n: comment\ndata: three\n\n".replace(b"\n", newline)
    expected = [SSEEvent("a", "one\ntwo"), SSEEvent("message", "three")]
    assert parse(raw) == expected
    assert parse(*split_every(raw, 1)) == expected


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    # If the CR were taken as a line end on its own, the LF would end the event early.
    assert parse(b"data: a\r", b"\ndata: b\r\n\r\n") == [SSEEvent("message", "a\nb")]


def test_comments_and_empty_events_are_ignored() -> None:
    raw = b": keep-alive\n\n:another\n\nevent: lonely\n\ndata: x\n\n"
    assert parse(raw) == [SSEEvent("message", "x")]


def test_final_event_without_trailing_blank_line() -> None:
    assert parse(b"data: first\n\ndata: last") == [
        SSEEvent("message", "first"),
        SSEEvent("message", "last"),
    ]
    assert parse(b"data: last\r") == [SSEEvent("message", "last")]


def test_field_value_spacing_and_unknown_fields() -> None:
    raw = b"data:tight\ndata:  two spaces\nid: 7\nretry: 10\nnonsense\ndata\n\n"
    assert parse(raw) == [SSEEvent("message", "tight\n two spaces\n")]


def test_byte_order_mark_is_dropped_even_when_split() -> None:
    raw = "\ufeffdata: x\n\n".encode()
    assert parse(raw[:1], raw[1:2], raw[2:]) == [SSEEvent("message", "x")]


def test_multibyte_characters_split_across_chunks() -> None:
    raw = "data: café — 😊 ok\n\n".encode()
    emoji = raw.index("😊".encode())
    assert parse(*split_at(raw, [emoji + 1, emoji + 2, emoji + 3])) == [
        SSEEvent("message", "café — 😊 ok")
    ]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.sse")), ids=lambda p: p.name)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1000])
def test_recorded_streams_parse_the_same_at_any_chunk_size(path: Path, size: int) -> None:
    raw = path.read_bytes()
    whole = parse(raw)
    assert whole, "every recorded stream has events"
    assert parse(*split_every(raw, size)) == whole
    crlf = raw.replace(b"\n", b"\r\n")
    assert parse(*split_every(crlf, size)) == whole


def test_anthropic_fixture_keeps_its_unterminated_last_event() -> None:
    raw = FIXTURES.joinpath("anthropic_messages_stream_tool_use.sse").read_bytes()
    assert not raw.endswith(b"\n")
    assert parse(raw)[-1] == SSEEvent("message_stop", '{"type":"message_stop"}')


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": "7"})) == 7.0
    assert parse_retry_after(httpx.Headers({"Retry-After": " 1.5 "})) == 1.5
    assert parse_retry_after(httpx.Headers({"Retry-After": "-3"})) == 0.0
    assert parse_retry_after(httpx.Headers({})) is None
    assert parse_retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    future = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    seconds = parse_retry_after(httpx.Headers({"Retry-After": future}))
    assert seconds is not None
    assert 17 <= seconds <= 20
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=20), usegmt=True)
    assert parse_retry_after(httpx.Headers({"Retry-After": past})) == 0.0


def test_backoff_honours_retry_after_up_to_the_cap_and_jitters_otherwise() -> None:
    assert backoff_delay(0, LLMRateLimited("busy", retry_after=4.0)) == 4.0
    assert backoff_delay(0, LLMRateLimited("busy", retry_after=3600.0)) == MAX_RETRY_AFTER
    delays = [backoff_delay(tries, LLMUnavailable("down")) for tries in range(6)]
    assert 0.25 <= delays[0] <= 0.5
    assert 0.5 <= delays[1] <= 1.0
    assert all(delay <= 8.0 for delay in delays)


def test_client_pool_is_sized_for_long_lived_streams() -> None:
    settings = openai_settings(
        max_connections=700, connect_timeout=3, first_token_timeout=45, idle_timeout=20
    )
    limits = client_limits(settings)
    assert limits.max_connections == 700
    assert limits.max_keepalive_connections == 700
    timeout = client_timeout(settings)
    assert timeout.connect == 3
    # The read backstop may not cut off a server that is still within its first-token allowance.
    assert timeout.read == 45
    assert timeout.pool == 45
