"""HTTP machinery shared by the remote model adapters.

One pooled `httpx.AsyncClient` per role, an incremental server-sent-events parser, the mapping
of HTTP statuses and transport failures to `app.errors`, and the retry and timeout rules:
retries happen only before anything has reached the caller; the first-token and idle-gap
timeouts are enforced around every read of the stream.

This module must never log or put into an error message any API key, request body or
response text: messages name the role, the server's host and what a person can do next.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app.errors import (
    LLMAuthError,
    LLMBadRequest,
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMStreamInterrupted,
    LLMTimeout,
    LLMUnavailable,
)
from app.llm._deadline import LazyDeadline
from app.llm._wire import LoopTransport
from app.llm.base import StreamChunk
from app.settings import RoleSettings

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 30.0  # a server asking for longer is not worth keeping a trainee waiting for
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0

# Indirection so tests can record the requested delays instead of waiting them out.
sleep: Callable[[float], Any] = asyncio.sleep


def client_limits(settings: RoleSettings) -> httpx.Limits:
    # Every open stream holds a connection for the whole reply, so the pool must be as large as
    # the number of concurrent conversations (httpx's default of 100 times out beyond that).
    # Idle connections are kept so the next turn skips a new TLS handshake.
    return httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_connections,
        keepalive_expiry=30.0,
    )


def client_timeout(settings: RoleSettings) -> httpx.Timeout:
    # The socket read timeout is only a backstop: the precise first-token and idle rules are
    # enforced per chunk with asyncio. It must not be shorter than the first-token allowance,
    # or a slow server would fail while still preparing its response headers.
    return httpx.Timeout(
        connect=settings.connect_timeout,
        read=max(settings.idle_timeout, settings.first_token_timeout),
        write=settings.idle_timeout,
        pool=settings.first_token_timeout,
    )


def build_client(settings: RoleSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=LoopTransport(client_limits(settings)), timeout=client_timeout(settings)
    )


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str
    data: str


_BOM = b"\xef\xbb\xbf"


class SSEDecoder:
    """Incremental SSE parser: feed it bytes split anywhere, then call `flush` at the end.

    Lines are found with bytes operations and each complete line is decoded on its own: a line
    break is ASCII, so it never falls inside a multi-byte character, and a character split
    across chunks stays in the buffer until its line is complete.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        return self._consume(chunk, final=False)

    def flush(self) -> list[SSEEvent]:
        """Finish the stream; a last event without its trailing blank line is still delivered."""
        events = self._consume(b"", final=True)
        last = self._dispatch()
        return [*events, last] if last else events

    def _consume(self, chunk: bytes, *, final: bool) -> list[SSEEvent]:
        buffer = self._buffer + chunk if self._buffer else chunk
        if not self._started and buffer:
            if not final and len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                self._buffer = buffer  # perhaps the start of a byte order mark
                return []
            self._started = True
            buffer = buffer.removeprefix(_BOM)
        if final and buffer:
            buffer += b"\n"  # the stream ended mid-line: that line is complete
        # A trailing CR may be the first half of a CRLF split across chunks: keep it back.
        end = len(buffer) - 1 if not final and buffer.endswith(b"\r") else len(buffer)
        text = buffer[:end]
        if b"\r" in text:
            text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = text.split(b"\n")
        self._buffer = lines.pop() + buffer[end:]
        events: list[SSEEvent] = []
        for line in lines:
            event = self._line(line.decode("utf-8", errors="replace"))
            if event:
                events.append(event)
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # comment, used by servers as a keep-alive
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        # `id` and `retry` only matter for reconnecting, which a model reply never does.
        return None

    def _dispatch(self) -> SSEEvent | None:
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        return SSEEvent(event=event, data="\n".join(data)) if data else None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Who is being called. Messages name only the host: a URL may carry credentials."""

    settings: RoleSettings
    role: str
    host: str

    @classmethod
    def of(cls, settings: RoleSettings, *, role: str, base_url: str) -> Endpoint:
        return cls(settings, role, httpx.URL(base_url).host or "(an address without http://)")

    @property
    def where(self) -> str:
        return f"The model server at {self.host}"


def status_error(endpoint: Endpoint, status: int, headers: Mapping[str, str]) -> LLMError:
    where, role, model = endpoint.where, endpoint.role, endpoint.settings.model
    if status == 401 and not endpoint.settings.api_key.get_secret_value():
        return LLMAuthError(
            f"{where} needs an API key for the {role} role and none is set. "
            "Ask your administrator to configure the key."
        )
    if status == 401:
        return LLMAuthError(
            f"{where} rejected the API key for the {role} role. "
            "Ask your administrator to check the key."
        )
    if status == 403:
        return LLMAuthError(
            f"{where} refused access to model {model!r} for the {role} role. "
            "Ask your administrator to check the key's permissions."
        )
    if status == 404:
        return LLMBadRequest(
            f"{where} does not know model {model!r} (or the address is wrong) for the {role} "
            "role. Ask your administrator to check the model name and base URL."
        )
    if status == 408:
        return LLMTimeout(f"{where} timed out the request for the {role} role. Try again.")
    if status == 429:
        retry_after = parse_retry_after(headers)
        seconds = math.ceil(retry_after or 0)
        wait = f"Wait {seconds} second{'s' * (seconds != 1)}" if seconds else "Wait a moment"
        return LLMRateLimited(
            f"{where} is limiting how often the {role} role may ask. {wait} and try again.",
            retry_after=retry_after,
        )
    if status >= 500:
        return LLMUnavailable(
            f"{where} is unavailable for the {role} role (HTTP {status}). Wait a minute and try "
            "again; if it persists, tell your administrator."
        )
    return LLMBadRequest(
        f"{where} refused the request for the {role} role (HTTP {status}). The conversation may "
        "be too long for the model, or a setting unsupported: ask your administrator to check."
    )


def transport_error(endpoint: Endpoint, exc: httpx.HTTPError) -> LLMError:
    where, role = endpoint.where, endpoint.role
    if isinstance(exc, httpx.ConnectTimeout):
        return LLMTimeout(
            f"Connecting to {endpoint.host} for the {role} role took longer than "
            f"{endpoint.settings.connect_timeout:g} s. Try again in a moment."
        )
    if isinstance(exc, httpx.PoolTimeout):
        return LLMUnavailable(
            f"Too many conversations are waiting for {endpoint.host} ({role} role). "
            "Try again in a moment; if it persists, tell your administrator."
        )
    if isinstance(exc, httpx.TimeoutException):
        return LLMTimeout(f"{where} stopped responding for the {role} role. Try again.")
    if isinstance(exc, httpx.ConnectError):
        return LLMUnavailable(
            f"Could not reach the model server at {endpoint.host} for the {role} role. "
            "Check that it is running, or tell your administrator."
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return LLMBadRequest(
            f"The model address for the {role} role is not an http(s) URL. "
            "Ask your administrator to check the base URL."
        )
    return LLMUnavailable(f"The connection to {endpoint.host} failed for the {role} role.")


def bad_response(endpoint: Endpoint) -> LLMError:
    exc = LLMBadResponse(
        f"{endpoint.where} sent a reply for the {endpoint.role} role that could not be read. "
        "Ask your administrator to check that the base URL points at a compatible server."
    )
    exc.retryable = False  # a server sending unreadable data is misconfigured, not busy
    return exc


def interrupted(endpoint: Endpoint) -> LLMStreamInterrupted:
    return LLMStreamInterrupted(
        f"The reply from the model for the {endpoint.role} role broke off before it finished. "
        "Try again."
    )


def load_json(endpoint: Endpoint, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise bad_response(endpoint)
    return value


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or an HTTP date), or None when absent."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds)


def backoff_delay(tries: int, exc: LLMError) -> float:
    if isinstance(exc, LLMRateLimited) and exc.retry_after is not None:
        return min(exc.retry_after, MAX_RETRY_AFTER)
    # Jitter spreads out many conversations that failed together, so they do not retry together.
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0**tries)
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - timing jitter, not security


async def _wait_before_retry(endpoint: Endpoint, tries: int, exc: LLMError) -> None:
    delay = backoff_delay(tries, exc)
    where = (endpoint.role, endpoint.host, exc.kind, tries + 1, endpoint.settings.max_retries)
    log.warning("retrying %s model at %s after %s (retry %d of %d) in %.1f s", *where, delay)
    await sleep(delay)


def _can_retry(exc: LLMError, tries: int, endpoint: Endpoint) -> bool:
    return exc.retryable and tries < endpoint.settings.max_retries


class _ReadDeadline:
    """A deadline on awaiting the next chunk, with one lazily moved timer per stream.

    The timeout is raised as `TimeoutError` from `read`, and a cancellation from elsewhere (the
    trainee leaving, shutdown) passes through unchanged.
    """

    def __init__(self) -> None:
        self._task = asyncio.current_task()
        self._timer = LazyDeadline(self._expire)
        self._expired = False
        self._cancelling = 0

    async def read(self, chunks: AsyncGenerator[StreamChunk, None], deadline: float) -> StreamChunk:
        self._timer.set(deadline)
        self._cancelling = self._task.cancelling() if self._task is not None else 0
        try:
            return await anext(chunks)
        except asyncio.CancelledError:
            if (
                self._expired
                and self._task is not None
                and self._task.uncancel() <= self._cancelling
            ):
                raise TimeoutError from None
            raise
        finally:
            self._timer.clear()
            self._expired = False

    def _expire(self) -> None:
        if self._task is not None:
            self._expired = True
            self._task.cancel()

    def close(self) -> None:
        self._timer.close()


async def retrying_stream(
    endpoint: Endpoint,
    attempt: Callable[[], AsyncGenerator[StreamChunk, None]],
) -> AsyncGenerator[StreamChunk, None]:
    """Run `attempt` with timeouts, retrying only while nothing has reached the caller.

    Empty chunks from an attempt mean "the server is alive": they reset the idle timer and are
    not passed on. Before the first text the attempt has `first_token_timeout` in total; after
    it, each gap between chunks may last `idle_timeout`. Once text has been yielded any failure
    other than an idle timeout surfaces as `LLMStreamInterrupted`.
    """
    settings = endpoint.settings
    loop = asyncio.get_running_loop()
    tries = 0
    while True:
        chunks = attempt()
        yielded = text_flowed = False
        reads = _ReadDeadline()
        try:
            deadline = loop.time() + settings.first_token_timeout
            while True:
                if text_flowed:
                    deadline = loop.time() + settings.idle_timeout
                try:
                    chunk = await reads.read(chunks, deadline)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise _timeout_error(endpoint, text_flowed=text_flowed) from None
                if not (chunk.text or chunk.usage or chunk.finish_reason):
                    continue
                text_flowed = text_flowed or bool(chunk.text)
                yielded = True
                yield chunk
        except LLMError as exc:
            if text_flowed and not isinstance(exc, LLMTimeout | LLMStreamInterrupted):
                raise interrupted(endpoint) from exc
            if yielded or not _can_retry(exc, tries, endpoint):
                raise
            failure = exc
        finally:
            reads.close()
            await chunks.aclose()
        await _wait_before_retry(endpoint, tries, failure)
        tries += 1


def _timeout_error(endpoint: Endpoint, *, text_flowed: bool) -> LLMTimeout:
    settings, role = endpoint.settings, endpoint.role
    if text_flowed:
        return LLMTimeout(
            f"The model for the {role} role stopped sending its reply for "
            f"{settings.idle_timeout:g} s part-way through. Try again."
        )
    return LLMTimeout(
        f"The model for the {role} role did not start answering within "
        f"{settings.first_token_timeout:g} s. Try again; if it keeps happening, tell your "
        "administrator."
    )


class _SentOnce:
    """A JSON request body that is let go once it has been sent.

    httpx keeps a `json=` body with its request, and the request with its response, for as long
    as the response streams: several kilobytes (the whole conversation) per streaming reply.
    Given as content whose length is known, the body is sent the same way (not chunked) and
    nothing holds it afterwards. Encoded as httpx encodes `json=`.
    """

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self._body: bytes | None = json.dumps(
            payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
        self.size = len(self._body)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._body is None:
            raise httpx.StreamConsumed()  # never sent again with its length but not its bytes
        body, self._body = self._body, None
        yield body


async def sse_events(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    payload: Mapping[str, Any],
    endpoint: Endpoint,
) -> AsyncGenerator[SSEEvent, None]:
    """POST and yield the response's events; leaving early closes the upstream response."""
    body = _SentOnce(payload)
    sent = {**headers, "Content-Type": "application/json", "Content-Length": str(body.size)}
    try:
        async with client.stream("POST", url, headers=sent, content=body) as response:
            if response.status_code >= 400:
                raise status_error(endpoint, response.status_code, response.headers)
            if response.headers.get("content-type", "").startswith("text/html"):
                raise bad_response(endpoint)  # a web page: base_url points at the wrong thing
            decoder = SSEDecoder()
            async for raw in response.aiter_bytes():
                for event in decoder.feed(raw):
                    yield event
            for event in decoder.flush():
                yield event
    except httpx.HTTPError as exc:
        raise transport_error(endpoint, exc) from exc


@dataclass(eq=False)
class RequestRejected(Exception):
    """A 400/422 handed back to the adapter to inspect; it never escapes an adapter."""

    status: int
    body: str


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    payload: Mapping[str, Any],
    endpoint: Endpoint,
    pass_back_rejections: bool = False,
) -> dict[str, Any]:
    """Non-streamed POST with retries; returns the decoded JSON object."""
    settings = endpoint.settings
    # A non-streamed reply arrives all at once: there is no first token to watch, so the
    # budget covers both waiting for the model to start and generating the whole answer.
    budget = settings.first_token_timeout + settings.idle_timeout
    timeout = httpx.Timeout(budget, connect=settings.connect_timeout)
    tries = 0
    while True:
        try:
            async with asyncio.timeout(budget):
                response = await client.post(url, headers=headers, json=payload, timeout=timeout)
        except TimeoutError:
            failure: LLMError = LLMTimeout(
                f"The model for the {endpoint.role} role did not answer within {budget:g} s. "
                "Try again; if it keeps happening, tell your administrator."
            )
        except httpx.HTTPError as exc:
            failure = transport_error(endpoint, exc)
        else:
            status = response.status_code
            if status < 400:
                return load_json(endpoint, response.text)
            if pass_back_rejections and status in (400, 422):
                raise RequestRejected(status, response.text[:4000])
            failure = status_error(endpoint, status, response.headers)
        if not _can_retry(failure, tries, endpoint):
            raise failure
        await _wait_before_retry(endpoint, tries, failure)
        tries += 1
