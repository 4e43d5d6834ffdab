"""HTTP/1.1 to the model servers (`app/llm/_http11.py`), against real servers on loopback
that answer in the ways servers do: framed by length, chunked, until close, split anywhere,
malformed, or followed by bytes that belong to no response."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from app.llm._http11 import HTTP11Connection
from app.llm._wire import LoopTransport
from tests.llm.test_wire import STREAM_HEAD, Handler, chunk, event, read_request, serving


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=LoopTransport(httpx.Limits()), timeout=5.0)


@asynccontextmanager
async def served(handler: Handler) -> AsyncIterator[tuple[int, list[int], httpx.AsyncClient]]:
    async with serving(handler) as (port, connections), client() as http:
        yield port, connections, http


def answering(*responses: bytes, close: bool = False, pieces: int = 0):  # type: ignore[no-untyped-def]
    """A handler that answers each request on a connection with the next response."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for response in responses:
            await read_request(reader)
            if pieces:
                for i in range(0, len(response), pieces):
                    writer.write(response[i : i + pieces])
                    await writer.drain()
                    await asyncio.sleep(0)
            else:
                writer.write(response)
            await writer.drain()
            if close:
                return

    return handler


JSON_OK = (
    b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'
)


async def test_a_response_with_a_length_is_read_and_the_connection_kept() -> None:
    async with serving(answering(JSON_OK, JSON_OK)) as (port, connections), client() as http:
        for _ in range(2):
            response = await http.post(f"http://127.0.0.1:{port}/v1/chat", json={"a": 1})
            assert response.status_code == 200
            assert response.json() == {"ok": True}
            assert response.headers["content-type"] == "application/json"
            assert response.http_version == "HTTP/1.1"
        pooled = http._transport._pool.connections  # type: ignore[attr-defined]
        assert isinstance(pooled[0]._connection, HTTP11Connection)  # httptools, not h11
    assert len(connections) == 1


async def test_a_response_split_into_single_bytes_is_read_whole() -> None:
    streamed = STREAM_HEAD + chunk(event("one")) + chunk(event("two")) + b"0\r\n\r\n"
    async with served(answering(streamed, JSON_OK, pieces=1)) as (port, connections, http):
        async with http.stream("POST", f"http://127.0.0.1:{port}/") as response:
            body = b"".join([piece async for piece in response.aiter_bytes()])
        assert body == event("one") + event("two")
        again = await http.post(f"http://127.0.0.1:{port}/")
        assert again.json() == {"ok": True}
    assert len(connections) == 1


async def test_connection_close_and_a_body_until_close_are_not_reused() -> None:
    closing = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi"
    until_close = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it"
    async with serving(answering(closing, close=True)) as (port, connections), client() as http:
        assert (await http.get(f"http://127.0.0.1:{port}/")).text == "hi"
        assert (await http.get(f"http://127.0.0.1:{port}/")).text == "hi"
    assert len(connections) == 2
    async with served(answering(until_close, close=True)) as (port, connections, http):
        assert (await http.get(f"http://127.0.0.1:{port}/")).text == "all of it"
        assert (await http.get(f"http://127.0.0.1:{port}/")).text == "all of it"
    assert len(connections) == 2


async def test_head_and_no_content_answers_have_no_body() -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n"
    empty = b"HTTP/1.1 204 No Content\r\n\r\n"
    async with served(answering(head, empty, JSON_OK)) as (port, connections, http):
        response = await http.head(f"http://127.0.0.1:{port}/")
        assert response.status_code == 200
        assert response.content == b""
        response = await http.delete(f"http://127.0.0.1:{port}/")
        assert response.status_code == 204
        assert response.content == b""
        assert (await http.get(f"http://127.0.0.1:{port}/")).json() == {"ok": True}
    assert len(connections) == 1


async def test_bytes_after_a_response_keep_it_but_not_the_connection() -> None:
    async with served(answering(JSON_OK + b"HTTP/1.1 200 OK\r\n", JSON_OK)) as (port, conns, http):
        assert (await http.get(f"http://127.0.0.1:{port}/")).json() == {"ok": True}
        assert (await http.get(f"http://127.0.0.1:{port}/")).json() == {"ok": True}
    assert len(conns) == 2


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"HTTP/1.1 200 OK\r\ncontent-length: nope\r\n\r\n", "Malformed"),
        (b"NOT HTTP AT ALL\r\n\r\n", "Malformed"),
        (STREAM_HEAD + b"zz\r\nxx", "Malformed"),
        (b"", "without sending a response"),
        (b"HTTP/1.1 100 Continue\r\n\r\n", "Unexpected response status 100"),
        (b"HTTP/1.1 200 OK\r\nx: " + b"y" * 120_000, "too large"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nshort", "complete message body"),
    ],
)
async def test_an_unreadable_answer_is_a_protocol_error(answer: bytes, words: str) -> None:
    async with serving(answering(answer, close=True)) as (port, _), client() as http:
        with pytest.raises(httpx.RemoteProtocolError, match=words):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_a_streamed_request_body_is_sent_chunked() -> None:
    received: list[bytes] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"0\r\n\r\n"))
        writer.write(JSON_OK)
        await writer.drain()

    async def parts() -> AsyncIterator[bytes]:
        for part in (b'{"a":', b"", b"1}"):
            yield part

    async with serving(echo) as (port, _), client() as http:
        response = await http.post(f"http://127.0.0.1:{port}/", content=parts())
        assert response.json() == {"ok": True}
    head, _, body = received[0].partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert body == b'5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n'


async def test_the_request_line_headers_and_body_arrive_as_sent() -> None:
    heads: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await read_request(reader))
        writer.write(JSON_OK)
        await writer.drain()

    async with serving(record) as (port, _), client() as http:
        await http.post(
            f"http://127.0.0.1:{port}/v1/chat/completions?x=1",
            json={"model": "m"},
            headers={"Authorization": "Bearer k"},
        )
    head, _, body = heads[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/chat/completions?x=1 HTTP/1.1"
    assert b"Authorization: Bearer k" in lines
    assert b"Host: 127.0.0.1:%d" % port in lines
    assert json.loads(body) == {"model": "m"}


async def test_a_header_with_a_line_break_is_never_sent() -> None:
    async with serving(answering(JSON_OK)) as (port, connections), client() as http:
        with pytest.raises(httpx.LocalProtocolError):
            await http.get(f"http://127.0.0.1:{port}/", headers={"x-key": "a\r\nInjected: 1"})
    assert connections in ([], [1])
