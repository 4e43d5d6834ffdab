"""One timer for a run of deadlines that mostly move later: a read per token of a stream.

Arming a timer per read (as `asyncio.timeout` does) costs a timer, a handle and a cancel per
token. Here a read only notes its deadline. The timer is armed when there is none or the new
deadline is earlier; when it fires and the deadline has moved on since, it re-arms itself at
the deadline; only a deadline still pending and reached calls `expire`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

_CLOCK_SLACK = 0.001  # a timer may fire this much before its time


class LazyDeadline:
    def __init__(self, expire: Callable[[], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._expire = expire
        self._deadline = math.inf  # of what is waiting now, if anything is
        self._armed = math.inf  # when the timer fires
        self._timer: asyncio.TimerHandle | None = None

    def set(self, deadline: float) -> None:
        """Something waits until `deadline` (loop time)."""
        self._deadline = deadline
        if self._timer is None or deadline < self._armed:
            self._arm(deadline)

    def clear(self) -> None:
        """Nothing waits any more; the timer stays armed for the next wait."""
        self._deadline = math.inf

    def close(self) -> None:
        self._deadline = math.inf
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed = when
        self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._deadline == math.inf:
            return  # nothing waiting: the next wait arms the timer again
        if self._loop.time() < self._deadline - _CLOCK_SLACK:
            self._arm(self._deadline)  # the deadline moved on since the timer was set
            return
        self._deadline = math.inf
        self._expire()
