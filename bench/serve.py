"""The service as the benchmark runs it: `alliance serve`'s app, one worker, with a switch.

`--critique off` swaps the evaluator for one that hands back a ready-made critique at once, so
a cell can measure the relay with and without a critique being produced beside each reply.
`--holdback N` sets how many complete words the character guard holds back from the relay
(`ALLIANCE_GUARD_HOLDBACK_WORDS`), so `bench.guard_cost` can compare settings in one run.
Everything else (settings from `ALLIANCE_*`, database, models, routes) is the real service.

    python -m bench.serve --port 9200 --critique on
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--critique", choices=["on", "off"], default="on")
    parser.add_argument("--holdback", type=int, default=None, help="words the guard holds back")
    args = parser.parse_args()
    uvicorn.run(
        build(args.critique == "on", args.holdback),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
