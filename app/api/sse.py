"""SSE framing: the one place turn events become `event:`/`data:` frames.

Frames are encoded here, once, to bytes: a reply's deltas are most of a stream's events, so a
delta is written from a prefix computed once per turn plus its JSON-encoded text, with no
intermediate objects. The bytes are exactly what `ServerSentEvent.encode` would produce.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sse_starlette import EventSourceResponse
from starlette.types import Message, Send

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
    """sse-starlette's response, writing each frame without a per-send cancel scope.

    No send timeout is set on these streams, so the library's per-frame `move_on_after` (an
    anyio cancel scope for every delta) guards nothing and is skipped.
    """

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        if self.send_timeout is None:
            await send(message)
        else:
            await super()._send_with_timeout(send, message)


def event_stream(events: AsyncIterator[Event]) -> EventSourceResponse:
    return TurnEventResponse(
        _frames(events),
        ping=15,
        sep=_SEP,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
