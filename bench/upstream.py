"""A fake OpenAI-compatible model server: paced token streams, a canned judge, injectable faults.

Plain asyncio over HTTP/1.1 with keep-alive, so it costs as little CPU as possible and the
measurement is of whatever sits in front of it. `POST /control` changes the pacing between
cells. Streamed requests get `tokens` chunks, the first after `first_token_ms` and the rest at
`rate` per second on a fixed schedule (so a slow reader never slows the schedule); each token's
text is ` tok<k>`, so a reader can tell which tokens it got and when. Non-streamed requests get
the canned `critique` JSON after `judge_ms`. `fail_every=n` answers every n-th streamed request
with 503 (0: never).

    python -m bench.upstream --port 9100
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict, dataclass
from typing import Any

END = '"finish_reason":null}]}\n\n'


@dataclass
class Pace:
    tokens: int = 30
    rate: float = 30.0
    first_token_ms: float = 50.0
    judge_ms: float = 200.0
    fail_every: int = 0
    critique: str = "{}"


class Upstream:
    def __init__(self) -> None:
        self.pace = Pace()
        self.streams = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    return
                method, path, body = request
                await self.route(method, path, body, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def route(
        self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter
    ) -> None:
        if method == "POST" and path == "/control":
            self.pace = Pace(**{**asdict(self.pace), **json.loads(body or b"{}")})
            await respond(writer, 200, b'{"ok":true}')
        elif method == "GET" and path.endswith("/models"):
            await respond(
                writer, 200, b'{"object":"list","data":[{"id":"bench","object":"model"}]}'
            )
        elif method == "POST" and path.endswith("/chat/completions"):
            payload: dict[str, Any] = json.loads(body)
            if payload.get("stream"):
                await self.stream(payload, writer)
            else:
                await self.complete(payload, writer)
        else:
            await respond(writer, 404, b'{"error":{"message":"not found","code":404}}')

    async def complete(self, payload: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        pace = self.pace
        await asyncio.sleep(pace.judge_ms / 1000)
        body = {
            "id": "bench-judge",
            "object": "chat.completion",
            "model": payload.get("model", "bench"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": pace.critique},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 500, "completion_tokens": 300, "total_tokens": 800},
        }
        await respond(writer, 200, json.dumps(body).encode())

    async def stream(self, payload: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        pace = self.pace
        self.streams += 1
        if pace.fail_every and self.streams % pace.fail_every == 0:
            await respond(writer, 503, b'{"error":{"message":"overloaded","code":503}}')
            return
        model = json.dumps(payload.get("model", "bench"))
        head = f'data: {{"id":"b","object":"chat.completion.chunk","created":0,"model":{model},'
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n"
        )
        loop = asyncio.get_running_loop()
        start = loop.time() + pace.first_token_ms / 1000
        interval = 1.0 / pace.rate
        role = head + '"choices":[{"index":0,"delta":{"role":"assistant","content":""},' + END
        chunk(writer, role.encode())
        for k in range(pace.tokens):
            delay = start + k * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            event = head + f'"choices":[{{"index":0,"delta":{{"content":" tok{k}"}},' + END
            chunk(writer, event.encode())
            await writer.drain()
        finish = head + '"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
        usage = (
            head + '"choices":[],"usage":{"prompt_tokens":400,'
            f'"completion_tokens":{pace.tokens},"total_tokens":{400 + pace.tokens}}}}}\n\n'
        )
        chunk(writer, finish.encode() + usage.encode() + b"data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(b"%x\r\n%s\r\n" % (len(data), data))


async def respond(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}.get(status, "Error")
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    length, chunked = 0, False
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    else:
        body = await reader.readexactly(length) if length else b""
    return method, path.split("?", 1)[0], body


async def serve(port: int) -> None:
    upstream = Upstream()
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    run_fast(serve(args.port))


def run_fast(main: Any) -> None:
    """uvloop when installed (as uvicorn uses it), asyncio otherwise."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
