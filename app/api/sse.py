"""SSE framing: the one place turn events become `event:`/`data:` frames.

Frames are encoded here, once, to bytes: a reply's deltas are most of a stream's events, so a
delta is written from a prefix computed once per turn plus its JSON-encoded text, with no
intermediate objects. The bytes are exactly what `ServerSentEvent.encode` would produce.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.event import ensure_bytes
from starlette.types import Receive, Scope, Send

from app.api.openapi import BUSY, database_busy
from app.dialogue.events import EVENT_SCHEMA_VERSION, Delta, Event, TurnError, payload
from app.errors import AllianceError

_SEP = "\r\n"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def frame(event: Event) -> bytes:
    """One event as an SSE frame (JSON never contains a line break, so one `data:` line)."""
    return f"event: {event.name}{_SEP}data: {_json(payload(event))}{_SEP}{_SEP}".encode()


class _DeltaFrames:
    """Delta frames of one turn: the constant part is encoded once, the text per delta."""

    __slots__ = ("_prefix", "_turn_id")

    def __init__(self) -> None:
        self._turn_id: str | None = None
        self._prefix = ""

    def frame(self, delta: Delta) -> bytes:
        if delta.turn_id != self._turn_id:
            self._turn_id = delta.turn_id
            head = f'{{"v":{EVENT_SCHEMA_VERSION},"turn_id":{_json(delta.turn_id)},"text":'
            self._prefix = f"event: {delta.name}{_SEP}data: {head}"
        return f"{self._prefix}{_json(delta.text)}}}{_SEP}{_SEP}".encode()


async def _frames(events: AsyncIterator[Event]) -> AsyncIterator[bytes]:
    deltas = _DeltaFrames()
    try:
        async for event in events:
            yield deltas.frame(event) if isinstance(event, Delta) else frame(event)
    except AllianceError as exc:
        yield frame(
            TurnError(
                turn_id=None,
                stage="turn",
                message=exc.message,
                retryable=exc.retryable,
                kind=exc.kind,
            )
        )
    except (OperationalError, PoolTimeout) as exc:
        # Headers are sent: the overload answer a route would give (503) becomes an event.
        if not database_busy(exc):
            raise
        yield frame(
            TurnError(turn_id=None, stage="turn", message=BUSY, retryable=True, kind="busy")
        )


class TurnEventResponse(EventSourceResponse):
    """sse-starlette's response (headers, frames, HEAD), written with one helper task.

    The library runs four tasks per response in an anyio task group (the stream, a ping, a
    shutdown listener and a disconnect listener), each with its cancel scope, and a cancel scope
    per frame: close to 20 KB per open stream (`python -m bench.memory`), held for as long as
    the turn streams. Here the frames are written from the request's own task, and one helper
    task waits for the browser to go away, writing a ping comment every `ping_interval` seconds
    meanwhile. The browser leaving cancels the writing (the turn runs on regardless). At
    shutdown a stream is not cut short: it ends with its turn, or when the server's
    graceful-shutdown timeout cancels it.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await super().__call__(scope, receive, send)
            return
        writer = asyncio.current_task()
        assert writer is not None
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})
        watcher = asyncio.create_task(self._watch(receive, send, writer))
        try:
            await self._write(send)
        except asyncio.CancelledError:
            # Cancelled by the watcher when the browser left: nothing more to write to.
            if self.active or writer.uncancel() > 0:
                raise
        finally:
            watcher.cancel()  # before the last message: no ping may follow it
        if self.active:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self.background is not None:
            await self.background()

    async def _write(self, send: Send) -> None:
        frames = self.body_iterator
        try:
            async for chunk in frames:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            # Interrupted while a frame was being sent: the frames' own clean-up runs now.
            if isinstance(frames, AsyncGenerator):
                await frames.aclose()

    async def _watch(self, receive: Receive, send: Send, writer: asyncio.Task[Any]) -> None:
        """Wait for the browser to leave; write a ping comment every `ping_interval` meanwhile."""
        while True:
            try:
                async with asyncio.timeout(self.ping_interval or None):
                    message = await receive()
            except TimeoutError:
                ping = ServerSentEvent(comment=f"ping - {datetime.now(UTC)}", sep=self.sep)
                body = ensure_bytes(ping, self.sep)
                await send({"type": "http.response.body", "body": body, "more_body": True})
                continue
            if message["type"] == "http.disconnect":
                self.active = False
                writer.cancel()
                return


def event_stream(events: AsyncIterator[Event]) -> EventSourceResponse:
    return TurnEventResponse(
        _frames(events),
        ping=15,
        sep=_SEP,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
