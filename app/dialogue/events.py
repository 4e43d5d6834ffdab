"""Typed events of one turn, in the order a subscriber sees them.

    turn      the trainee turn is stored (ids)
    delta     a piece of the client's reply text
    reply     the final reply text, and the session clock
    critique  the critique of the trainee turn
    error     a message fit for a person, the stage that failed, and whether a retry is possible
    done      nothing more will come for this turn

Version `EVENT_SCHEMA_VERSION` is sent with every event; the SSE framing is in `app.api.sse`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

EVENT_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class TurnStored:
    turn_id: str
    session_id: str
    parent_id: str | None
    trainee_text: str
    created_at: str
    name: Literal["turn"] = "turn"


@dataclass(frozen=True, slots=True)
class Delta:
    turn_id: str
    text: str
    name: Literal["delta"] = "delta"


@dataclass(frozen=True, slots=True)
class ReplyDone:
    turn_id: str
    text: str
    minutes_elapsed: float
    planned_minutes: int
    name: Literal["reply"] = "reply"


@dataclass(frozen=True, slots=True)
class CritiqueReady:
    turn_id: str
    critique: dict[str, Any]
    name: Literal["critique"] = "critique"


@dataclass(frozen=True, slots=True)
class TurnError:
    turn_id: str | None
    stage: Literal["turn", "reply", "critique"]
    message: str
    retryable: bool
    kind: str
    name: Literal["error"] = "error"


@dataclass(frozen=True, slots=True)
class Done:
    turn_id: str
    name: Literal["done"] = "done"


Event = TurnStored | Delta | ReplyDone | CritiqueReady | TurnError | Done


def payload(event: Event) -> dict[str, Any]:
    # A shallow copy: the payload is serialised at once, so nested values need no deep copy.
    data: dict[str, Any] = {"v": EVENT_SCHEMA_VERSION}
    for field in fields(event):
        if field.name != "name":
            data[field.name] = getattr(event, field.name)
    return data
