"""Prometheus metrics, one set per process (each replica is scraped on its own).

Labels are small fixed vocabularies (role, direction, kind, part): never user or session ids,
never text. `MeteredModel` wraps any `ChatModel` so every adapter is measured the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from app.errors import LLMError
from app.llm.base import ChatModel, ChatRequest, JsonCompletion, StreamChunk, Usage

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 60.0)

ACTIVE_STREAMS = Gauge("alliance_active_streams", "Client replies being written right now.")
FIRST_TOKEN = Histogram(
    "alliance_time_to_first_token_seconds",
    "Time to the reply's first token: `upstream` waiting on the model server, `overhead` our "
    "own work before the request and after the token arrives.",
    ["part"],
    buckets=_LATENCY_BUCKETS,
)
TOKENS = Counter(
    "alliance_tokens_total",
    "Model tokens by role and direction (in, out, cached: the part of `in` served from cache).",
    ["role", "direction"],
)
CRITIQUE_LATENCY = Histogram(
    "alliance_critique_seconds",
    "Time to produce one critique, including a repair or the offline fallback.",
    buckets=_LATENCY_BUCKETS,
)
ERRORS = Counter(
    "alliance_errors_total", "Failures by stage and kind (the error's `kind`).", ["stage", "kind"]
)
FAILOVERS = Counter(
    "alliance_failovers_total", "Requests moved to the next endpoint of a role.", ["role"]
)
REFUSED = Counter("alliance_turns_refused_total", "Turns refused by a per-user limit.", ["reason"])


def exposition() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


def record_usage(role: str, usage: Usage) -> None:
    TOKENS.labels(role=role, direction="in").inc(usage.input_tokens)
    TOKENS.labels(role=role, direction="out").inc(usage.output_tokens)
    TOKENS.labels(role=role, direction="cached").inc(usage.cached_tokens)


class MeteredModel:
    """A `ChatModel` that counts tokens and failures (the engine times the first token)."""

    def __init__(self, inner: ChatModel, *, role: str) -> None:
        self.inner = inner
        self.role = role

    @property
    def label(self) -> str:
        return self.inner.label

    @property
    def offline(self) -> bool:
        return self.inner.offline

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        try:
            async for chunk in self.inner.stream(request):
                if chunk.usage is not None:
                    record_usage(self.role, chunk.usage)
                yield chunk
        except LLMError as exc:
            ERRORS.labels(stage=f"{self.role}_model", kind=exc.kind).inc()
            raise

    async def complete_json(self, request: ChatRequest) -> JsonCompletion:
        try:
            completion = await self.inner.complete_json(request)
        except LLMError as exc:
            ERRORS.labels(stage=f"{self.role}_model", kind=exc.kind).inc()
            raise
        record_usage(self.role, completion.usage)
        return completion

    async def aclose(self) -> None:
        await self.inner.aclose()
