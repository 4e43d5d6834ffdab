"""The least CPU a relayed token can cost on this machine, before any of the service's code.

Relaying one token is at least one read from the model's connection and one write to the
browser's, each woken by the event loop. This measures both on loopback with uvloop (the loop
the service runs on), with a peer process on the other end, at a token every `--gap-ms`:

    receive   a peer writes a 120-byte chunk; the loop wakes and a protocol takes it
    send      the loop writes a 120-byte frame to a peer that is waiting to read it

It reports CPU time (user + system) of the measuring process per token, so the service's own
figure (`python -m bench.profile`) can be read against it. The sender paces itself with a
blocking sleep, whose own cost (measured alone, same count and gap) is taken off. A long gap
is dearer per token than a short one: the process and its caches go cold between tokens.

    python -m bench.floor [--tokens 3000] [--gap-ms 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import time

import uvloop

FRAME = b"x" * 120


def _peer_reader(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        while sock.recv(65536):
            pass


def _peer_writer(port: int, tokens: int, gap: float) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(tokens):
            sock.sendall(FRAME)
            time.sleep(gap)


def _fork(target: object, *args: object) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            target(*args)  # type: ignore[operator]
        finally:
            os._exit(0)
    return pid


async def _send(tokens: int, gap: float) -> float:
    accepted: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()

    async def on_connect(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    pid = _fork(_peer_reader, server.sockets[0].getsockname()[1])
    writer = await accepted
    await asyncio.sleep(0.2)
    began = time.process_time()
    for _ in range(tokens):
        writer.write(FRAME)  # uvloop writes at once when nothing is queued
        # Blocking on purpose: not CPU time, and no timer of the loop's to count.
        time.sleep(gap)  # noqa: ASYNC251
    spent = time.process_time() - began
    writer.close()
    await writer.wait_closed()  # the peer sees the end and exits
    server.close()
    os.waitpid(pid, 0)  # noqa: ASYNC222 - the peer has already been told to finish
    return spent


async def _receive(tokens: int, gap: float) -> float:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    received = [0]

    class Counting(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            received[0] += len(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if not done.done():
                done.set_result(None)

    server = await loop.create_server(Counting, "127.0.0.1", 0)
    began = time.process_time()
    pid = _fork(_peer_writer, server.sockets[0].getsockname()[1], tokens, gap)
    await done
    spent = time.process_time() - began
    server.close()
    os.waitpid(pid, 0)  # noqa: ASYNC222 - the peer has finished: its connection closed
    # Idle waiting between chunks costs the loop nothing measurable; the wait is not counted.
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=3000)
    parser.add_argument("--gap-ms", type=float, default=1.0)
    args = parser.parse_args()
    gap = args.gap_ms / 1000
    sending = uvloop.run(_send(args.tokens, gap))
    receiving = uvloop.run(_receive(args.tokens, gap))
    sleeping = _sleeping(args.tokens, gap)
    per = 1e6 / args.tokens
    send = (sending - sleeping) * per
    print(f"receive: {receiving * per:.1f} µs CPU per token")
    print(
        f"send:    {send:.1f} µs CPU per token (the pacing sleep, {sleeping * per:.1f} µs, removed)"
    )
    print(f"floor:   {receiving * per + send:.1f} µs CPU per relayed token")


def _sleeping(tokens: int, gap: float) -> float:
    """What the send loop's pacing costs by itself: a sleep and a wake-up per token."""
    began = time.process_time()
    for _ in range(tokens):
        time.sleep(gap)
    return time.process_time() - began


if __name__ == "__main__":
    main()
