"""A streaming request's body is sent whole, with its length, and not kept while the reply
streams (it is the whole conversation, held once per live reply otherwise)."""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc

from app.llm._http import Endpoint, build_client, sse_events
from tests.llm._support import openai_settings
from tests.llm.test_wire import STREAM_HEAD, chunk, event, read_request, serving


async def test_the_body_is_sent_with_its_length_and_let_go_while_the_reply_streams() -> None:
    received: list[tuple[bytes, int, object]] = []  # head, body length, body as JSON
    go_on = asyncio.Event()

    async def slow_reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _, body = (await read_request(reader)).partition(b"\r\n\r\n")
        received.append((head.lower(), len(body), json.loads(body) == payload))
        del body  # the server keeps no copy: only the client's memory is measured
        writer.write(STREAM_HEAD + chunk(event("first")))
        await writer.drain()
        await go_on.wait()
        writer.write(chunk(event("last")) + b"0\r\n\r\n")
        await writer.drain()

    settings = openai_settings()
    conversation = "word " * 400_000  # 2 MB, held by the caller as a real prompt is
    payload = {
        "model": "m",
        "stream": True,
        "messages": [{"role": "user", "content": conversation}],
    }
    async with serving(slow_reply) as (port, _), build_client(settings) as client:
        events = sse_events(
            client,
            f"http://127.0.0.1:{port}/v1/chat/completions",
            headers={"Authorization": "Bearer k"},
            payload=payload,
            endpoint=Endpoint.of(settings, role="client", base_url=f"http://127.0.0.1:{port}"),
        )
        tracemalloc.start()
        try:
            first = await anext(events)
            gc.collect()
            held, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        go_on.set()
        rest = [e async for e in events]
    assert "first" in first.data
    assert "last" in rest[-1].data
    # The 2 MB encoded body was made and sent, and is no longer held mid-stream.
    assert held < 500_000, held
    head, length, same = received[0]
    assert b"content-length: %d" % length in head
    assert b"transfer-encoding" not in head
    assert same is True
