"""The relay between one running turn and any number of listening browsers.

A `TurnRun` keeps the turn's events in order. Subscribers replay from the start and then follow
live, so a browser that reconnects mid-reply catches up. The producer does O(1) work per token
(append and wake); a subscriber coalesces the deltas that piled up while it was busy into one,
so slow readers get fewer, larger events instead of falling behind. A subscriber going away
never stops the run: the turn finishes and is stored regardless.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from app.dialogue.events import Delta, Done, Event


class TurnRun:
    def __init__(self, turn_id: str) -> None:
        self.turn_id = turn_id
        self._events: list[Event] = []
        # An Event rather than a shared future: each waiter has its own, so a subscriber that
        # goes away cannot cancel the others, and a publish wakes every subscriber in one step
        # of the loop (a shielded future takes two, letting other work slip in before a delta).
        self._wake = asyncio.Event()
        self._closed = False
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, event: Event) -> None:
        if self._closed:
            return
        self._events.append(event)
        if isinstance(event, Done):
            self._closed = True
            if not self.finished.done():
                self.finished.set_result(None)
        self._wake.set()

    async def subscribe(self) -> AsyncIterator[Event]:
        index = 0
        while True:
            if index < len(self._events):
                batch = self._events[index:]
                index += len(batch)
                for event in _coalesce(batch):
                    yield event
                continue
            if self._closed:
                return
            self._wake.clear()
            await self._wake.wait()


def _coalesce(batch: list[Event]) -> list[Event]:
    out: list[Event] = []
    for event in batch:
        last = out[-1] if out else None
        if isinstance(event, Delta) and isinstance(last, Delta):
            out[-1] = Delta(turn_id=event.turn_id, text=last.text + event.text)
        else:
            out.append(event)
    return out
