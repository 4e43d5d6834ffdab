"""The sockets under the model clients: httpcore's network backend on plain asyncio.

A streamed reply is one small read per token, so what a read costs is paid on every token the
service relays. httpcore's default backend goes through anyio, which opens a cancel scope and
looks up the running library on every read and write. This backend keeps each connection's
received bytes in an `asyncio.Protocol` and hands them out directly: a read that finds data
waiting returns at once, and only a read that must wait arms a timer, and only if it was given
a timeout. TLS is started on the same connection with `loop.start_tls`. HTTP/1.1 is read by
httptools (`app/llm/_http11.py`); pooling, proxies and `respx` in tests are httpx and httpcore.
"""

# httpcore's network interface passes each call's timeout as an argument.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any, cast

import httpcore
import httpx
from httpcore import AsyncNetworkBackend, AsyncNetworkStream
from httpcore._async.interfaces import AsyncConnectionInterface
from httpcore._backends.anyio import AnyIOBackend
from httpcore._backends.base import SOCKET_OPTION

from app.llm._deadline import LazyDeadline
from app.llm._http11 import HTTP11Connection


class _Connection(asyncio.Protocol):
    """The receiving side of one connection: bytes waiting, end of stream, errors."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()  # made inside `create_connection`
        self.transport: asyncio.Transport | None = None
        self.received: deque[bytes] = deque()
        self.waiting = 0  # bytes in `received`
        self.eof = False
        self.lost: BaseException | None = None
        self.closed = False
        self._reader: asyncio.Future[None] | None = None
        self._timer = LazyDeadline(self._time_out)  # for the read waiting, if it has one
        self._writable: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received.append(data)
        self.waiting += len(data)
        self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None  # close the transport: HTTP/1.1 never writes after the server's end

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.forget_timer()
        self.lost = exc
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # -- for the stream -----------------------------------------------------------------------

    def _wake(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        data = self.received.popleft()
        if len(data) > max_bytes:
            self.received.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        self.waiting -= len(data)
        return data

    async def arrival(self, timeout: float | None) -> None:
        """Wait for bytes, the end of the stream or an error; `TimeoutError` after `timeout`."""
        self._reader = self._loop.create_future()
        if timeout is not None:
            self._timer.set(self._loop.time() + timeout)
        try:
            await self._reader
        finally:
            self._reader = None
            self._timer.clear()

    def _time_out(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_exception(TimeoutError())

    def forget_timer(self) -> None:
        self._timer.close()

    async def writable(self, timeout: float | None) -> None:
        if self._writable is not None and not self._writable.done():
            await asyncio.wait_for(asyncio.shield(self._writable), timeout)


class LoopStream(AsyncNetworkStream):
    """One connection, as httpcore reads and writes it."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        connection = self._connection
        if not connection.waiting:
            if connection.eof or connection.closed:
                return b""
            try:
                await connection.arrival(timeout)
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out waiting for the server") from None
            if not connection.waiting:
                if connection.lost is not None:
                    raise httpcore.ReadError(str(connection.lost)) from connection.lost
                return b""
        return connection.take(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        connection = self._connection
        if connection.closed or connection.transport is None:
            raise httpcore.WriteError("the connection is closed")
        connection.transport.write(buffer)
        try:
            await connection.writable(timeout)
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out sending to the server") from None
        if connection.closed and connection.lost is not None:
            raise httpcore.WriteError(str(connection.lost)) from connection.lost

    async def aclose(self) -> None:
        self._connection.forget_timer()
        transport = self._connection.transport
        if transport is not None and not transport.is_closing():
            transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncNetworkStream:
        connection = self._connection
        assert connection.transport is not None
        loop = asyncio.get_running_loop()
        try:
            transport = await asyncio.wait_for(
                loop.start_tls(
                    connection.transport,
                    connection,
                    ssl_context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=timeout,
                ),
                timeout,
            )
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout("timed out starting TLS") from None
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:
            raise httpcore.ConnectError("the server closed the connection during TLS")
        connection.transport = transport
        return self

    def get_extra_info(self, info: str) -> Any:
        connection = self._connection
        transport = connection.transport
        if info == "is_readable":
            # An idle pooled connection with something to read was closed or is broken.
            return bool(connection.waiting) or connection.eof or connection.closed
        if transport is None:
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        return None


class LoopBackend(AsyncNetworkBackend):
    """TCP connections on the running asyncio loop; Unix sockets are left to anyio."""

    def __init__(self) -> None:
        self._fallback = AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            transport, connection = await asyncio.wait_for(
                loop.create_connection(
                    _Connection,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                ),
                timeout,
            )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        raw: socket.socket | None = transport.get_extra_info("socket")
        if raw is not None:
            for option in socket_options or ():
                raw.setsockopt(*option)
        return LoopStream(connection)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        return await self._fallback.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _HTTPConnection(httpcore.AsyncHTTPConnection):
    """httpcore's connection (connecting, TLS, retries), speaking HTTP/1.1 through httptools."""

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        if self._connection is None:
            async with self._request_lock:
                if self._connection is None:
                    try:
                        stream = await self._connect(request)
                    except BaseException:
                        self._connect_failed = True
                        raise
                    self._connection = HTTP11Connection(
                        self._origin, stream, keepalive_expiry=self._keepalive_expiry
                    )
        return await self._connection.handle_async_request(request)


class _Pool(httpcore.AsyncConnectionPool):
    def create_connection(self, origin: httpcore.Origin) -> AsyncConnectionInterface:
        return _HTTPConnection(
            origin=origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            retries=self._retries,
            local_address=self._local_address,
            network_backend=self._network_backend,
            socket_options=self._socket_options,
        )


class LoopTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, with its connection pool on `LoopBackend`.

    Proxies configured in the environment are mounted by `httpx.AsyncClient` on transports of
    their own, so they keep working unchanged (on httpcore's default backend).
    """

    def __init__(self, limits: httpx.Limits, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(limits=limits)
        self._pool = _Pool(
            ssl_context=httpx.create_ssl_context(verify=verify),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=LoopBackend(),
        )
