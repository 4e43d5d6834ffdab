"""A scripted OpenAI-compatible upstream for the fault campaign, mocked at the network edge.

Each call to the chat completions route takes the next behaviour from a queue; once the queue is
empty the upstream has "recovered" and answers with a real recorded stream (see
`tests/fixtures/llm-streams/README.md` for its origin and licence).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import respx

from app.settings import ClientRoleSettings, EvaluatorRoleSettings
from tests.llm._support import Part, fixture, openai_events, openai_expected, sse_response

CLIENT_URL = "https://client-llm.example.test/v1"
JUDGE_URL = "https://judge-llm.example.test/v1"
SECRET = "sk-fault-SECRET-93be"

RECORDED = fixture("openai_chat_stream_text.sse")
RECORDED_TEXT = openai_expected(RECORDED)[0]

Behaviour = Callable[[httpx.Request], httpx.Response]


def client_settings(**overrides: Any) -> ClientRoleSettings:
    values: dict[str, Any] = {
        "provider": "openai_compat",
        "base_url": CLIENT_URL,
        "api_key": SECRET,
        "model": "client-test",
        "max_retries": 0,
        "connect_timeout": 1.0,
        "first_token_timeout": 0.3,
        "idle_timeout": 0.3,
    }
    return ClientRoleSettings(**(values | overrides))


def judge_settings(**overrides: Any) -> EvaluatorRoleSettings:
    values: dict[str, Any] = {
        "provider": "openai_compat",
        "base_url": JUDGE_URL,
        "api_key": SECRET,
        "model": "judge-test",
        "max_retries": 0,
    }
    return EvaluatorRoleSettings(**(values | overrides))


def status(code: int, **headers: str) -> Behaviour:
    body = {"error": {"message": "upstream says no", "type": "test", "code": code}}
    return lambda _request: httpx.Response(code, json=body, headers=headers)


def stream(parts: Sequence[Part]) -> Behaviour:
    return lambda _request: sse_response(list(parts))


def recorded(_request: httpx.Request) -> httpx.Response:
    return sse_response([RECORDED])


def head(first: str) -> list[bytes]:
    """The role chunk and one text chunk of a stream that has not finished."""
    return openai_events([first], finish=None, usage=False, done=False)


def json_reply(content: str) -> Behaviour:
    body = {
        "id": "j1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
    }
    return lambda _request: httpx.Response(200, json=body)


class Upstream:
    """A queue of faults in front of a healthy server; counts every call it answers."""

    def __init__(self, mock: respx.MockRouter, url: str, healthy: Behaviour = recorded) -> None:
        self.faults: list[Behaviour] = []
        self.healthy = healthy
        self.calls = 0
        self.route = mock.post(url + "/chat/completions").mock(side_effect=self._answer)

    def fail_with(self, *behaviours: Behaviour) -> None:
        self.faults.extend(behaviours)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        assert SECRET in request.headers.get("authorization", "")
        json.loads(request.content)  # the service always sends a JSON body
        behaviour = self.faults.pop(0) if self.faults else self.healthy
        return behaviour(request)
