"""SSE framing: the one place turn events become `event:`/`data:` frames."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.api.openapi import BUSY, database_busy
from app.dialogue.events import Event, TurnError, payload
from app.errors import AllianceError


def frame(event: Event) -> ServerSentEvent:
    return ServerSentEvent(
        data=json.dumps(payload(event), ensure_ascii=False, separators=(",", ":")),
        event=event.name,
    )


async def _frames(events: AsyncIterator[Event]) -> AsyncIterator[ServerSentEvent]:
    try:
        async for event in events:
            yield frame(event)
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


def event_stream(events: AsyncIterator[Event]) -> EventSourceResponse:
    return EventSourceResponse(
        _frames(events),
        ping=15,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
