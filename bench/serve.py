"""The service as the benchmark runs it: `alliance serve`'s app, one worker, with a switch.

`--critique off` swaps the evaluator for one that hands back a ready-made critique at once, so
a cell can measure the relay with and without a critique being produced beside each reply.
`--guard off` is an experiment only (`bench.guard_cost`): the character guard's stream watch
relays every piece at once instead of whole words a few words behind, to measure what the
watch costs. Everything else (settings from `ALLIANCE_*`, database, models, routes) is the
real service.

    python -m bench.serve --port 9200 --critique on
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from app.evaluator.schema import Critique, JudgeInput
from app.main import create_app
from app.settings import Settings


class ReadyCritique:
    """An evaluator that costs nothing: the offline judge's critique of the benchmark turn."""

    def __init__(self, label: str, critique: Critique) -> None:
        self.label = label
        self._critique = critique

    async def critique(self, _judge_input: JudgeInput, *_args: Any, **_kwargs: Any) -> Critique:
        return self._critique


def watch_off() -> None:
    """Relay each piece as it arrives (the final reply is still checked by the engine)."""
    from app.dialogue import guard

    def feed(self: guard.StreamWatch, piece: str) -> str:
        self.text += piece
        self.relayed = len(self.text)
        return piece

    def finish(self: guard.StreamWatch) -> str:
        return ""

    guard.StreamWatch.feed = feed  # type: ignore[method-assign]
    guard.StreamWatch.finish = finish  # type: ignore[method-assign]


def build(critique: bool) -> FastAPI:
    from bench.upstream_critique import bench_critique

    app = create_app(Settings())
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--critique", choices=["on", "off"], default="on")
    parser.add_argument("--guard", choices=["on", "off"], default="on")
    args = parser.parse_args()
    if args.guard == "off":
        watch_off()
    uvicorn.run(
        build(args.critique == "on"),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
