"""The turn event stream's response: frames in order, pings while it is quiet, and a browser
leaving stops the writing at once (the turn itself runs on; see tests/test_relay_path.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from app.api.sse import TurnEventResponse

Message = dict[str, Any]


def scope(method: str = "GET") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/", "headers": []}


class Browser:
    """The ASGI side of one browser: what was sent to it, and when it leaves."""

    def __init__(self) -> None:
        self.sent: list[MutableMapping[str, Any]] = []
        self.leave = asyncio.Event()

    async def receive(self) -> Message:
        await self.leave.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(message)

    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.sent if m["type"] == "http.response.body"]


async def test_frames_are_written_in_order_with_pings_while_quiet_then_the_end() -> None:
    async def frames() -> AsyncIterator[bytes]:
        yield b"event: turn\r\ndata: {}\r\n\r\n"
        await asyncio.sleep(0.25)  # a quiet spell: the model is thinking
        yield b"event: done\r\ndata: {}\r\n\r\n"

    browser = Browser()
    response = TurnEventResponse(frames(), ping=0.05, sep="\r\n")
    await asyncio.wait_for(response(scope(), browser.receive, browser.send), 5)
    assert browser.sent[0]["type"] == "http.response.start"
    bodies = browser.bodies()
    assert bodies[0].startswith(b"event: turn")
    pings = [b for b in bodies[1:-2] if b.startswith(b": ping")]
    assert pings
    assert len(pings) == len(bodies) - 3
    assert bodies[-2].startswith(b"event: done")
    assert bodies[-1] == b""
    assert browser.sent[-1]["more_body"] is False


async def test_a_browser_leaving_stops_the_writing_and_closes_the_frames() -> None:
    closed = asyncio.Event()

    async def frames() -> AsyncIterator[bytes]:
        try:
            yield b"event: turn\r\ndata: {}\r\n\r\n"
            await asyncio.sleep(60)  # a turn that would stream for a minute more
            yield b"event: done\r\ndata: {}\r\n\r\n"
        finally:
            closed.set()

    browser = Browser()
    response = TurnEventResponse(frames(), ping=15, sep="\r\n")
    writing = asyncio.create_task(response(scope(), browser.receive, browser.send))
    await asyncio.sleep(0.1)
    browser.leave.set()
    await asyncio.wait_for(writing, 2)  # returns, neither hanging nor raising
    assert closed.is_set()
    assert [b for b in browser.bodies() if b.startswith(b"event: done")] == []
    assert not any(m.get("more_body") is False for m in browser.sent)  # no one to end it for


async def test_a_cancelled_request_stays_cancelled() -> None:
    async def frames() -> AsyncIterator[bytes]:
        yield b"event: turn\r\ndata: {}\r\n\r\n"
        await asyncio.sleep(60)
        yield b""

    browser = Browser()
    response = TurnEventResponse(frames(), ping=15, sep="\r\n")
    writing = asyncio.create_task(response(scope(), browser.receive, browser.send))
    await asyncio.sleep(0.1)
    writing.cancel()  # the server shutting down, say: not the browser leaving
    try:
        await asyncio.wait_for(writing, 2)
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("a cancellation from outside was swallowed")
