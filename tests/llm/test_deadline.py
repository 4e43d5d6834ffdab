"""The lazily moved read deadline shared by the model stream and its sockets."""

from __future__ import annotations

import asyncio

from app.llm._deadline import LazyDeadline


async def test_a_deadline_moved_on_before_it_is_reached_never_expires() -> None:
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    timer = LazyDeadline(lambda: fired.append(loop.time()))
    for _ in range(6):  # a read every 20 ms, each with 50 ms to go: never late
        timer.set(loop.time() + 0.05)
        await asyncio.sleep(0.02)
        timer.clear()
    assert fired == []
    start = loop.time()
    timer.set(start + 0.05)  # this read is late
    await asyncio.sleep(0.12)
    assert len(fired) == 1
    assert 0.049 <= fired[0] - start < 0.11
    timer.close()


async def test_an_earlier_deadline_is_kept_and_a_cleared_one_does_not_fire() -> None:
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    timer = LazyDeadline(lambda: fired.append(loop.time()))
    start = loop.time()
    timer.set(start + 1.0)
    timer.set(start + 0.03)  # earlier than the armed timer: armed again, sooner
    await asyncio.sleep(0.08)
    assert len(fired) == 1
    assert fired[0] - start < 0.5
    timer.set(loop.time() + 0.03)
    timer.clear()  # the read finished in time
    await asyncio.sleep(0.08)
    assert len(fired) == 1
    timer.set(loop.time() + 0.03)
    timer.close()
    await asyncio.sleep(0.08)
    assert len(fired) == 1
