"""The relay between one running turn and any number of listening browsers.

A `TurnRun` keeps the turn's events in order. Subscribers replay from the start and then follow
live, so a browser that reconnects mid-reply catches up. The producer does little work per
event (append, or extend the text, and wake); a subscriber coalesces the deltas that piled up
while it was busy into one, so slow readers get fewer, larger events instead of falling behind.
A subscriber going away never stops the run: the turn finishes and is stored regardless.

A run lives as long as its turn, and a reply is most of a turn's events, so the deltas are kept
as the text they add up to (one string per stretch of consecutive deltas), not as an event and
a string per piece: a piece of a few characters costs over a hundred bytes in objects. Extending
the text copies it, which stays under a microsecond per piece even for a 4,000-piece reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from app.dialogue.events import Delta, Done, Event


class _Text:
    """The text of consecutive deltas; it grows while it is the last entry of the log."""

    __slots__ = ("text", "turn_id")

    def __init__(self, turn_id: str, text: str) -> None:
        self.turn_id = turn_id
        self.text = text


class TurnRun:
    __slots__ = ("_closed", "_log", "_waiters", "finished", "turn_id")

    def __init__(self, turn_id: str) -> None:
        self.turn_id = turn_id
        self._log: list[Event | _Text] = []
        # A future per waiting subscriber rather than a shared one: a subscriber that goes away
        # cannot cancel the others, and a publish wakes every subscriber in one step of the loop
        # (a shielded future takes two, letting other work slip in before a delta). A list, not
        # an `asyncio.Event`, whose deque of waiters costs half a kilobyte per run before anyone
        # waits.
        self._waiters: list[asyncio.Future[None]] = []
        self._closed = False
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, event: Event) -> None:
        if self._closed:
            return
        if isinstance(event, Delta):
            last = self._log[-1] if self._log else None
            if isinstance(last, _Text) and last.turn_id == event.turn_id:
                last.text += event.text
            else:
                self._log.append(_Text(event.turn_id, event.text))
        else:
            self._log.append(event)
            if isinstance(event, Done):
                self._closed = True
                if not self.finished.done():
                    self.finished.set_result(None)
        self._wake()

    def _wake(self) -> None:
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def subscribe(self) -> AsyncIterator[Event]:
        index = 0  # the entry of the log being read
        sent = 0  # of a text entry: the characters already sent
        while True:
            if index < len(self._log):
                entry = self._log[index]
                if not isinstance(entry, _Text):
                    index += 1
                    yield entry
                    continue
                text = entry.text
                if sent < len(text):
                    start, sent = sent, len(text)
                    yield Delta(turn_id=entry.turn_id, text=text[start:])
                    continue
                if index + 1 < len(self._log):  # the text is complete: another event follows
                    index, sent = index + 1, 0
                    continue
            if self._closed:
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
