"""The service as the benchmark runs it: `alliance serve`'s app, one worker, with a switch.

`--critique off` swaps the evaluator for one that hands back a ready-made critique at once, so
a cell can measure the relay with and without a critique being produced beside each reply.
`--holdback N` sets how many complete words the character guard holds back from the relay
(`ALLIANCE_GUARD_HOLDBACK_WORDS`), so `bench.guard_cost` can compare settings in one run.
`--memory-probe` answers `GET /_bench/memory?label=x` with how the process holds its memory
(pymalloc, malloc, threads, live objects by type), for `bench.memory`; `--tracemalloc N` also
traces allocations (N frames each) and makes the route write a tracemalloc snapshot to
`memory-x.tracemalloc` in the working directory. Without either the route does not exist.
Everything else (settings from `ALLIANCE_*`, database, models, routes) is the real service.

    python -m bench.serve --port 9200 --critique on
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import re
import sys
import tempfile
import threading
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.evaluator.judge import Assessment
from app.evaluator.schema import Critique, JudgeInput
from app.llm.base import Usage
from app.main import create_app
from app.settings import Settings


class ReadyCritique:
    """An evaluator that costs nothing: the offline judge's critique of the benchmark turn."""

    def __init__(self, label: str, critique: Critique) -> None:
        self.label = label
        self._critique = critique

    async def critique(self, _judge_input: JudgeInput, *_args: Any, **_kwargs: Any) -> Critique:
        return self._critique

    async def assess(self, _judge_input: JudgeInput, *_args: Any, **_kwargs: Any) -> Assessment:
        return Assessment(self._critique, Usage())


def build(critique: bool, holdback: int | None = None) -> FastAPI:
    from bench.upstream_critique import bench_critique

    settings = Settings() if holdback is None else Settings(guard_holdback_words=holdback)
    app = create_app(settings)
    if critique:
        return app
    opened = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with opened(application) as state:
            engine = application.state.services.engine
            engine.evaluator = ReadyCritique(engine.evaluator.label, bench_critique())
            yield state

    app.router.lifespan_context = lifespan
    return app


class MemoryProbe:
    """ASGI wrapper answering `GET /_bench/memory?label=x` beside the real app.

    It reports how the process's memory is held (pymalloc's arenas, malloc's arenas, threads)
    and the live objects by type; when tracing, it first writes a tracemalloc snapshot. The
    figures are read before a collection, so they hold what the process holds (cyclic garbage
    included); the collection (skipped with `collect=0`) then says how much of it was garbage.
    """

    PATH = "/_bench/memory"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.PATH:
            await self.app(scope, receive, send)
            return
        query = dict(
            part.split("=", 1) for part in scope["query_string"].decode().split("&") if "=" in part
        )
        label = re.sub(r"[^A-Za-z0-9_-]", "", query.get("label", "")) or "snapshot"
        body = json.dumps(probe(label, collect=query.get("collect") != "0")).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def probe(label: str, *, collect: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if tracemalloc.is_tracing():
        result["traced_bytes"] = tracemalloc.get_traced_memory()[0]
        snapshot = tracemalloc.take_snapshot()
        path = Path(f"memory-{label}.tracemalloc").resolve()
        snapshot.dump(str(path))
        del snapshot
        result["path"] = str(path)
        result["tracemalloc_overhead"] = tracemalloc.get_tracemalloc_memory()
    result["pymalloc"] = pymalloc_stats()
    result["malloc"] = malloc_stats()
    result["threads"] = threading.active_count()
    result["collected_objects"] = gc.collect() if collect else None
    if tracemalloc.is_tracing():
        result["traced_after_collect"] = tracemalloc.get_traced_memory()[0]
    types = Counter(type(obj).__qualname__ for obj in gc.get_objects())
    result["types"] = dict(types.most_common(300))
    return result


def pymalloc_stats() -> dict[str, int]:
    """The totals of `sys._debugmallocstats()` (written to the C stderr), by name."""
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        try:
            os.dup2(capture.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode(errors="replace")
    stats: dict[str, int] = {}
    for line in text.splitlines():
        name, equals, value = line.rpartition("=")
        if equals and value.strip().replace(",", "").isdigit():
            stats[" ".join(name.strip("# ").split())] = int(value.strip().replace(",", ""))
    return stats


_MALLINFO2 = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2.split()]


def malloc_stats() -> dict[str, int]:
    """glibc's `mallinfo2` over all arenas: bytes in use, free (kept), and mmapped."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return {}
    info = libc.mallinfo2()
    return {
        "arena": info.arena,
        "in_use": info.uordblks,
        "free": info.fordblks,
        "mmapped": info.hblkhd,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--critique", choices=["on", "off"], default="on")
    parser.add_argument("--holdback", type=int, default=None, help="words the guard holds back")
    parser.add_argument("--memory-probe", action="store_true", help="answer /_bench/memory")
    parser.add_argument(
        "--tracemalloc", type=int, default=0, help="frames per traced allocation (0: off)"
    )
    args = parser.parse_args()
    app: ASGIApp = build(args.critique == "on", args.holdback)
    if args.tracemalloc:
        tracemalloc.start(args.tracemalloc)
    if args.tracemalloc or args.memory_probe:
        app = MemoryProbe(app)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
