"""Strict role layout: what a strict chat template (Mistral, Gemma) will accept, nothing lost."""

from __future__ import annotations

import itertools

import pytest
import respx

from app.dialogue import rules
from app.dialogue.prompting import client_request
from app.dialogue.scene import ClientScene
from app.llm.base import ChatMessage, ChatRequest
from app.llm.layout import SESSION_BEGINS, StrictRoles, strict_alternation
from app.llm.registry import build_model
from app.personas import load_personas
from app.prompts import Prompts
from app.settings import PROJECT_ROOT

from ._support import OPENAI_URL, collect, fixture, openai_settings, request_json, sse_response

PERSONAS = load_personas(PROJECT_ROOT / "personas")


def real_request() -> ChatRequest:
    persona = PERSONAS[sorted(PERSONAS)[0]]
    state = rules.initial_state(persona).model_copy(update={"minutes_elapsed": 44.0})
    scene = ClientScene(
        persona=persona,
        state=state,
        visible_layers=rules.visible_layers(state, persona),
        history=[("counsellor", "Hello, come in."), ("client", "Thanks. Bit nervous.")],
        trainee_text="What would you like to use our time for?",
        planned_minutes=50,
    )
    return client_request(
        Prompts(PROJECT_ROOT / "prompts"), scene, opening="Hi.", max_tokens=100, temperature=0.5
    )


def assert_strict(messages: list[ChatMessage]) -> None:
    assert messages[0].role == "system"
    assert all(m.role != "system" for m in messages[1:])
    roles = [m.role for m in messages[1:]]
    assert roles[0] == "user"
    assert roles[-1] == "user"
    assert all(a != b for a, b in itertools.pairwise(roles)), roles


def test_the_client_request_as_sent_is_not_strict_but_becomes_strict() -> None:
    request = real_request()
    roles = [m.role for m in request.messages]
    assert roles.count("system") == 2  # the stable prompt, and the note on the moment
    assert roles[1] == "assistant"  # the client's opening line comes first
    shaped = strict_alternation(request.messages)
    assert_strict(shaped)
    assert shaped[0].content == request.messages[0].content
    assert shaped[1].content == SESSION_BEGINS
    assert shaped[2].content == "Hi."
    # The moment's note travels, marked, inside the counsellor's newest turn, before their words.
    note = request.messages[-2].content.strip()
    last = shaped[-1].content
    assert last.startswith(f"[{note}]")
    assert last.endswith("What would you like to use our time for?")
    # Nothing was dropped.
    for message in request.messages:
        assert any(message.content.strip() in m.content for m in shaped)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([("user", "a"), ("user", "b")], [("user", "a\n\nb")]),
        (
            [("system", "s1"), ("system", "s2"), ("user", "u")],
            [("system", "s1\n\ns2"), ("user", "u")],
        ),
        (
            [("assistant", "o"), ("system", "n")],
            [("user", SESSION_BEGINS), ("assistant", "o"), ("user", "[n]")],
        ),
        ([("user", "u"), ("system", "n")], [("user", "u\n\n[n]")]),
    ],
)
def test_edge_cases(messages: list[tuple[str, str]], expected: list[tuple[str, str]]) -> None:
    shaped = strict_alternation([ChatMessage(r, c) for r, c in messages])  # type: ignore[arg-type]
    assert [(m.role, m.content) for m in shaped] == expected


@respx.mock
async def test_strict_roles_setting_shapes_what_the_server_receives() -> None:
    route = respx.post(OPENAI_URL + "/chat/completions").mock(
        return_value=sse_response([fixture("openai_chat_stream_text.sse")])
    )
    model = build_model(openai_settings(strict_roles=True), role="client")
    assert isinstance(model, StrictRoles)
    try:
        chunks = await collect(model, real_request())
    finally:
        await model.aclose()
    assert any(chunk.text for chunk in chunks)
    sent = [ChatMessage(m["role"], m["content"]) for m in request_json(route)["messages"]]
    assert_strict(sent)


def test_off_by_default() -> None:
    model = build_model(openai_settings(), role="client")
    assert not isinstance(model, StrictRoles)
