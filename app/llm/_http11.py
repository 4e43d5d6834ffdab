"""HTTP/1.1 to the model servers, parsed by httptools (llhttp, in C) instead of h11.

A streamed reply arrives as one small chunk per token, and h11 spends more per chunk than the
rest of the model client together (`python -m bench.profile`). This connection takes h11's
place inside httpcore's pool: httpx, the pool, its limits and timeouts, TLS and `respx` in tests
are unchanged. It speaks what the model clients need: one request at a time per connection,
bodies sent whole or chunked, responses framed by Content-Length, chunked encoding or the end
of the connection, and keep-alive. A response it cannot read (malformed, an upgrade, more bytes
than the response holds) closes the connection with httpcore's `RemoteProtocolError`.
"""

# httpcore's connection interface passes each call's timeout through its request.
# ruff: noqa: ASYNC109

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httptools
from httpcore import AsyncNetworkStream, Origin, Request, Response
from httpcore._async.interfaces import AsyncConnectionInterface

_READ_BYTES = 64 * 1024
_MAX_HEAD_BYTES = 100 * 1024  # as h11: a response head larger than this is refused


class _State(enum.IntEnum):
    NEW = 0
    ACTIVE = 1
    IDLE = 2
    CLOSED = 3


class _Reading:
    """httptools' callbacks for one response: status, headers, body pieces, completion.

    Bytes after the response are not a second response (one request is in flight at a time):
    they are noted, never read as part of this one, and the connection is not reused.
    """

    __slots__ = (
        "body",
        "complete",
        "extra",
        "headers",
        "headers_done",
        "keep_alive",
        "parser",
        "reason",
    )

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.reason = b""
        self.body: list[bytes] = []
        self.complete = False
        self.extra = False
        self.keep_alive = False
        self.parser: Any = None

    def on_message_begin(self) -> None:
        if self.complete:
            self.extra = True

    def on_status(self, status: bytes) -> None:
        if not self.complete:
            self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.complete:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        # Asked now: once the response is complete, httptools answers False.
        self.keep_alive = bool(self.parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


def _timeout(request: Request, kind: str) -> float | None:
    timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeouts.get(kind)


def _head(request: Request) -> tuple[bytes, bool]:
    """The request line and headers, and whether the body is sent chunked."""
    lines = [b"%s %s HTTP/1.1" % (request.method, request.url.target)]
    chunked = False
    for name, value in request.headers:
        if b"\r" in name or b"\n" in name or b"\r" in value or b"\n" in value or b":" in name:
            raise httpcore.LocalProtocolError("A request header contains a line break.")
        if name.lower() == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
        lines.append(name + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n", chunked


class HTTP11Connection(AsyncConnectionInterface):
    """One HTTP/1.1 connection, one request at a time."""

    def __init__(
        self, origin: Origin, stream: AsyncNetworkStream, keepalive_expiry: float | None = None
    ) -> None:
        self._origin = origin
        self._stream = stream
        self._keepalive_expiry = keepalive_expiry
        self._expire_at: float | None = None
        self._state = _State.NEW
        self._request_count = 0
        self._reading = _Reading()
        self._parser: Any = None
        self._until_close = False  # the response's body ends when the connection does

    # -- a request ------------------------------------------------------------------------------

    async def handle_async_request(self, request: Request) -> Response:
        if not self.can_handle_request(request.url.origin):
            raise RuntimeError(
                f"Attempted to send request to {request.url.origin} on connection to {self._origin}"
            )
        if self._state not in (_State.NEW, _State.IDLE):
            raise httpcore.ConnectionNotAvailable()
        self._state = _State.ACTIVE
        self._request_count += 1
        self._expire_at = None
        self._reading = reading = _Reading()
        self._parser = reading.parser = httptools.HttpResponseParser(reading)
        self._until_close = False
        try:
            await self._send(request)
            await self._receive_head(request)
            status = self._parser.get_status_code()
            if status < 200 or request.method == b"CONNECT":
                # Informational answers and tunnels: never sent by the model servers.
                raise httpcore.RemoteProtocolError(f"Unexpected response status {status}.")
            if request.method == b"HEAD" or status in (204, 304):
                reading.complete = True  # no body, whatever its headers say
            elif not self._framed(reading.headers):
                self._until_close = True
            return Response(
                status=status,
                headers=reading.headers,
                content=_Body(self, _timeout(request, "read")),
                extensions={
                    "http_version": b"HTTP/" + self._parser.get_http_version().encode(),
                    "reason_phrase": reading.reason,
                    "network_stream": self._stream,
                },
            )
        except BaseException:
            await self.aclose()
            raise

    @staticmethod
    def _framed(headers: list[tuple[bytes, bytes]]) -> bool:
        for name, _value in headers:
            if name.lower() in (b"content-length", b"transfer-encoding"):
                return True
        return False

    async def _send(self, request: Request) -> None:
        """The request, in one write when its body is one piece (a model request always is)."""
        timeout = _timeout(request, "write")
        pending, chunked = _head(request)
        stream: Any = request.stream
        async for chunk in stream:
            if not chunk:
                continue
            data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else bytes(chunk)
            if pending:
                data, pending = pending + data, b""
            await self._write(data, timeout)
        tail = b"0\r\n\r\n" if chunked else b""
        if pending or tail:
            await self._write(pending + tail, timeout)

    async def _write(self, data: bytes, timeout: float | None) -> None:
        # The server may have answered and closed already (a 413, say): read what it said.
        with contextlib.suppress(httpcore.WriteError):
            await self._stream.write(data, timeout=timeout)

    async def _receive_head(self, request: Request) -> None:
        timeout = _timeout(request, "read")
        reading = self._reading
        received = 0
        while not reading.headers_done:
            data = await self._stream.read(_READ_BYTES, timeout=timeout)
            if not data:
                raise httpcore.RemoteProtocolError(
                    "Server disconnected without sending a response."
                )
            received += len(data)
            self._feed(data)
            if not reading.headers_done and received > _MAX_HEAD_BYTES:
                raise httpcore.RemoteProtocolError("The response's headers are too large.")

    def _feed(self, data: bytes) -> None:
        reading = self._reading
        if reading.complete:
            reading.extra = True
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise httpcore.RemoteProtocolError("The server switched protocols.") from None
        except httptools.HttpParserError as exc:
            if not reading.complete:
                raise httpcore.RemoteProtocolError(
                    f"Malformed response from the server: {exc}"
                ) from None
            reading.extra = True  # the response was whole; what followed it was not

    # -- the response body ----------------------------------------------------------------------

    async def body(self, timeout: float | None) -> AsyncIterator[bytes]:
        reading = self._reading
        while True:
            if reading.body:
                pieces, reading.body = reading.body, []
                yield pieces[0] if len(pieces) == 1 else b"".join(pieces)
            if reading.complete:
                return
            data = await self._stream.read(_READ_BYTES, timeout=timeout)
            if not data:
                if self._until_close:
                    reading.complete = True
                    continue
                raise httpcore.RemoteProtocolError(
                    "peer closed connection without sending complete message body"
                )
            self._feed(data)

    async def response_closed(self) -> None:
        reading = self._reading
        reusable = (
            reading.complete
            and not self._until_close
            and not reading.extra
            and reading.keep_alive
            and self._state is _State.ACTIVE
        )
        self._parser = reading.parser = None  # they refer to each other
        if not reusable:
            await self.aclose()
            return
        self._state = _State.IDLE
        if self._keepalive_expiry is not None:
            self._expire_at = time.monotonic() + self._keepalive_expiry

    # -- what the pool asks ---------------------------------------------------------------------

    async def aclose(self) -> None:
        self._state = _State.CLOSED
        self._parser = self._reading.parser = None
        await self._stream.aclose()

    def can_handle_request(self, origin: Origin) -> bool:
        return origin == self._origin

    def is_available(self) -> bool:
        return self._state is _State.IDLE

    def has_expired(self) -> bool:
        expired = self._expire_at is not None and time.monotonic() > self._expire_at
        # An idle connection with something to read was closed by the server, or is broken.
        gone = self._state is _State.IDLE and self._stream.get_extra_info("is_readable")
        return bool(expired or gone)

    def is_idle(self) -> bool:
        return self._state is _State.IDLE

    def is_closed(self) -> bool:
        return self._state is _State.CLOSED

    def info(self) -> str:
        origin = str(self._origin)
        return f"{origin!r}, HTTP/1.1, {self._state.name}, Request Count: {self._request_count}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.info()}]>"


class _Body:
    """The response's bytes as httpcore hands them to httpx; closing frees the connection."""

    def __init__(self, connection: HTTP11Connection, timeout: float | None) -> None:
        self._connection = connection
        self._timeout = timeout
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._connection.body(self._timeout):
                yield chunk
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._connection.response_closed()
