"""The load generator's client: raw HTTP/1.1 over asyncio, timing every event as it is read.

No HTTP library sits between the socket and the clock, so the client adds as little as possible
to what it measures, and costs little CPU on a machine it shares with what it measures. It reads
chunked server-sent events and notes when each token (` tok<k>`) first arrives. For the service
only `delta` events count (the final `reply` event repeats the whole text).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field

TOKEN = re.compile(rb"\btok(\d+)")


@dataclass
class Stream:
    """One timed stream: times are seconds after the request was sent."""

    target: str
    ok: bool = False
    error: str = ""
    arrivals: dict[int, float] = field(default_factory=dict)
    max_gap: float = 0.0
    events: int = 0

    @property
    def ttft(self) -> float | None:
        return min(self.arrivals.values()) if self.arrivals else None


def request_bytes(path: str, port: int, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readline()
    status = int(status_line.split(b" ", 2)[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


class _Events:
    """Splits a byte stream into SSE blocks; counts tokens in the blocks that carry them."""

    def __init__(self, result: Stream, service: bool, started: float) -> None:
        self.result = result
        self.service = service
        self.started = started
        self.buffer = b""
        self.last: float | None = None

    def feed(self, data: bytes, now: float) -> None:
        self.buffer += data.replace(b"\r\n", b"\n")
        while b"\n\n" in self.buffer:
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            self.block(block, now)

    def block(self, block: bytes, now: float) -> None:
        self.result.events += 1
        if self.service:
            name = b"message"
            for line in block.split(b"\n"):
                if line.startswith(b"event:"):
                    name = line[6:].strip()
            if name == b"error":
                data = block.split(b"data:", 1)[-1]
                self.result.error = json.loads(data).get("kind", "error")
            if name != b"delta":
                return
        found = False
        for match in TOKEN.finditer(block):
            index = int(match.group(1))
            if index not in self.result.arrivals:
                self.result.arrivals[index] = now - self.started
                found = True
        if found:
            if self.last is not None:
                self.result.max_gap = max(self.result.max_gap, now - self.last)
            self.last = now


async def timed_stream(
    target: str,
    port: int,
    path: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    service: bool = False,
    limit_s: float = 300.0,
) -> Stream:
    result = Stream(target)
    try:
        async with asyncio.timeout(limit_s):
            await _read(result, port, path, body, headers or {}, service)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
        result.error = result.error or f"{type(exc).__name__}: {exc}"
    return result


async def _read(
    result: Stream, port: int, path: str, body: bytes, headers: dict[str, str], service: bool
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        started = time.perf_counter()
        writer.write(request_bytes(path, port, body, headers))
        status, response_headers = await _head(reader)
        if status != 200:
            length = int(response_headers.get("content-length", "0"))
            text = await reader.readexactly(length) if length else b""
            result.error = f"HTTP {status}: {text[:200].decode(errors='replace')}"
            return
        events = _Events(result, service, started)
        if "chunked" not in response_headers.get("transfer-encoding", ""):
            while data := await reader.read(65536):
                events.feed(data, time.perf_counter())
        else:
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    break
                data = await reader.readexactly(size + 2)
                events.feed(data[:-2], time.perf_counter())
        result.ok = not result.error
    finally:
        writer.close()
