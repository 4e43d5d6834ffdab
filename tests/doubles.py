"""Test doubles for the ChatModel interface, in the spirit of a function model: each test says
what the model does. They are for the engine and API tests; adapter tests use respx instead."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from app.llm.base import ChatRequest, JsonCompletion, StreamChunk, Usage

StreamFn = Callable[[ChatRequest], AsyncIterator[StreamChunk]]
JsonFn = Callable[[ChatRequest], Awaitable[JsonCompletion]]


class FunctionModel:
    """A remote-looking model whose behaviour is a pair of functions."""

    def __init__(
        self,
        *,
        stream: StreamFn | None = None,
        complete_json: JsonFn | None = None,
        label: str = "test model",
    ) -> None:
        self._stream = stream
        self._complete = complete_json
        self._label = label
        self.requests: list[ChatRequest] = []

    @property
    def label(self) -> str:
        return self._label

    @property
    def offline(self) -> bool:
        return False

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        self.requests.append(request)
        if self._stream is None:
            raise AssertionError("this test model does not stream")
        async for chunk in self._stream(request):
            yield chunk

    async def complete_json(self, request: ChatRequest) -> JsonCompletion:
        self.requests.append(request)
        if self._complete is None:
            raise AssertionError("this test model does not complete JSON")
        return await self._complete(request)

    async def aclose(self) -> None:
        return None


async def words(text: str) -> AsyncIterator[StreamChunk]:
    parts = text.split(" ")
    for index, word in enumerate(parts):
        yield StreamChunk(text=word if index == 0 else " " + word)
    yield StreamChunk(usage=Usage(input_tokens=100, output_tokens=len(parts)), finish_reason="stop")
