"""The model clients' socket layer (`app.llm._wire`) against real servers on loopback.

No mocks here: each test runs on both the standard loop and uvloop, and starts an asyncio
server (plain TCP, or TLS with a certificate made for the test) that it talks to through the
same client the adapters use.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.llm._http import SSEDecoder, build_client
from app.llm._wire import LoopTransport
from tests.llm._support import openai_settings

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + (await reader.readexactly(length) if length else b"")


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)


def event(text: str) -> bytes:
    return b'data: {"choices":[{"delta":{"content":"%s"}}]}\n\n' % text.encode()


@asynccontextmanager
async def serving(
    handler: Handler, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[int]]]:
    """A server on a free port; yields the port and a list counting its connections."""
    connections: list[int] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, connections
    finally:
        server.close()
        await server.wait_closed()


async def stream_texts(client: httpx.AsyncClient, url: str) -> list[str]:
    texts: list[str] = []
    async with client.stream("POST", url, json={"stream": True}) as response:
        decoder = SSEDecoder()
        async for raw in response.aiter_bytes():
            for sse in decoder.feed(raw):
                texts.append(sse.data)
    return texts


async def paced_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on the connection with three events, 20 ms apart."""
    while True:
        try:
            await read_request(reader)
        except asyncio.IncompleteReadError:
            return
        writer.write(STREAM_HEAD)
        for word in ("one", "two", "three"):
            await asyncio.sleep(0.02)
            writer.write(chunk(event(word)))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def test_a_stream_arrives_event_by_event_and_the_connection_is_kept() -> None:
    async with serving(paced_stream) as (port, connections):
        client = build_client(openai_settings())
        async with client:
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            first = await stream_texts(client, url)
            second = await stream_texts(client, url)
    assert len(first) == len(second) == 3
    assert '"content":"three"' in first[-1]
    assert len(connections) == 1  # the second request reused the pooled connection


async def test_a_server_that_goes_quiet_is_a_read_timeout() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(STREAM_HEAD + chunk(event("hello")))
        await writer.drain()
        await asyncio.sleep(5)

    async with serving(stall) as (port, _):
        client = httpx.AsyncClient(
            transport=LoopTransport(httpx.Limits()), timeout=httpx.Timeout(5.0, read=0.2)
        )
        async with client:
            with pytest.raises(httpx.ReadTimeout):
                await stream_texts(client, f"http://127.0.0.1:{port}/")


async def test_a_connection_cut_mid_stream_is_an_error_not_an_end() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(STREAM_HEAD + chunk(event("hello")))
        await writer.drain()
        writer.transport.abort()

    async with serving(cut) as (port, _), build_client(openai_settings()) as client:
        with pytest.raises(httpx.TransportError):
            await stream_texts(client, f"http://127.0.0.1:{port}/")


async def test_a_pooled_connection_the_server_closed_is_replaced() -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(STREAM_HEAD + chunk(event("hi")) + b"0\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)  # then close the kept-alive connection

    async with serving(once) as (port, connections), build_client(openai_settings()) as client:
        url = f"http://127.0.0.1:{port}/"
        assert len(await stream_texts(client, url)) == 1
        await asyncio.sleep(0.2)
        assert len(await stream_texts(client, url)) == 1
    assert len(connections) == 2


async def test_nothing_listening_is_a_connect_error() -> None:
    async with serving(paced_stream) as (port, _):
        pass  # the port is free again
    async with build_client(openai_settings()) as client:
        with pytest.raises(httpx.ConnectError):
            await stream_texts(client, f"http://127.0.0.1:{port}/")


def certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_tls_is_started_on_the_connection_and_the_certificate_is_checked(
    tmp_path: Path,
) -> None:
    cert, key = certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    async with serving(paced_stream, tls=server_tls) as (port, _):
        url = f"https://localhost:{port}/v1/chat/completions"
        trusting = httpx.AsyncClient(
            transport=LoopTransport(httpx.Limits(), verify=ssl.create_default_context(cafile=cert))
        )
        async with trusting:
            texts = await stream_texts(trusting, url)
        assert len(texts) == 3
        # The default trust store does not know the test's certificate: refused, not ignored.
        async with build_client(openai_settings()) as default:
            with pytest.raises(httpx.ConnectError):
                await stream_texts(default, url)
