"""What survives: a dropped stream, a failing model, a reload mid-draft, and model text that
looks like markup."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.errors import LLMUnavailable
from app.llm.base import ChatRequest, StreamChunk
from tests.browser.conftest import (
    LiveServer,
    browser_settings,
    send_turn,
    sign_in,
    start_first_session,
)
from tests.doubles import FunctionModel, words

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=\"window.__xss=1;alert('x')\"> <script>window.__xss=2</script> hello"


def flaky_model() -> FunctionModel:
    """Fails before its first word on the first call (as an unreachable server would), then
    replies normally."""
    calls = {"n": 0}

    async def stream(_request: ChatRequest) -> AsyncIterator[StreamChunk]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise LLMUnavailable("The client model could not be reached. Try again in a moment.")
        async for chunk in words("I suppose I could try to say a little more about it."):
            yield chunk

    return FunctionModel(stream=stream, label="flaky test model")


def markup_model() -> FunctionModel:
    async def stream(_request: ChatRequest) -> AsyncIterator[StreamChunk]:
        async for chunk in words(XSS):
            yield chunk

    return FunctionModel(stream=stream, label="markup test model")


@pytest.fixture
def flaky_server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(browser_settings(tmp_path), client_model=flaky_model()) as server:
        yield server


@pytest.fixture
def markup_server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(browser_settings(tmp_path), client_model=markup_model()) as server:
        yield server


def drop_after_first_delta(cut: list[str]) -> Any:
    """A route handler: the turn is sent and stored, but the browser's connection breaks after
    the first words (no reply, no critique, no done). What it never got goes into `cut`."""

    def handle(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch()
        body = response.text()
        first_delta = re.search(r"event: ?delta\r?\n.*?\r?\n\r?\n", body, re.S)
        assert first_delta is not None, "the reply did not stream"
        end = first_delta.end()
        cut.append(body[end:])
        route.fulfill(response=response, body=body[:end])

    return handle


def test_a_dropped_stream_reconnects_and_shows_the_finished_turn(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    cut: list[str] = []
    page.route("**/api/sessions/*/turns", drop_after_first_delta(cut))
    text = "What brings you here today?"
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")
    page.wait_for_selector("#composer-status:has-text('reconnecting')")
    turn = page.locator("li.exchange[data-turn-number='1']")
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    turn.locator(".critique--ready").wait_for()
    assert cut
    assert re.search(r"event: ?reply", cut[0])  # the part the browser never got
    stored = page.evaluate(
        "async () => (await (await fetch(location.pathname.replace('/sessions', "
        "'/api/sessions'))).json()).turns[0]"
    )
    assert turn.locator(".msg--client .msg__text").inner_text() == stored["reply"]
    assert turn.locator(".msg--trainee .msg__text").inner_text() == text
    assert page.locator("li.exchange[data-turn-id]").count() == 1
    assert page.locator("#composer-status").inner_text() == ""
    assert page.problems == []


def test_offline_mid_reply_keeps_trying_until_back_online(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    page.route("**/api/sessions/*/turns", drop_after_first_delta([]))
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url) if "/events" in r.url else None)
    page.fill("#composer-input", "How has this week been for you?")
    page.keyboard.press("Enter")
    page.wait_for_selector("#composer-status:has-text('reconnecting')")
    page.context.set_offline(True)  # the stream is gone and so is the network
    deadline = time.monotonic() + 15
    while not failed and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert failed, "no reconnection attempt was made while offline"
    assert page.locator("li.exchange[data-turn-number='1']").get_attribute("data-reply-status") in (
        "pending",
        "streaming",
    )
    page.context.set_offline(False)
    page.wait_for_selector(
        "li.exchange[data-turn-number='1'][data-reply-status='complete']", timeout=40_000
    )
    turn = page.locator("li.exchange[data-turn-number='1']")
    turn.locator(".critique--ready").wait_for(timeout=40_000)
    reply = turn.locator(".msg--client .msg__text").inner_text()
    assert len(reply.split()) >= 3
    page.reload()
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    shown = page.locator("li.exchange[data-turn-number='1'] .msg--client .msg__text")
    assert shown.inner_text() == reply
    assert page.problems == []


def test_a_model_failure_offers_a_retry_that_keeps_the_turn(
    page: Any, flaky_server: LiveServer
) -> None:
    sign_in(page, flaky_server)
    start_first_session(page)
    text = "I'm glad you came. What would you like us to focus on?"
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='failed']")
    turn = page.locator("li.exchange[data-turn-number='1']")
    assert "could not be reached" in turn.locator(".turn-error__text").inner_text()
    assert turn.locator(".msg--trainee .msg__text").inner_text() == text
    retry = turn.locator(".retry-button")
    assert retry.is_visible()
    retry.click()
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    assert turn.locator(".msg--trainee .msg__text").inner_text() == text
    assert "say a little more" in turn.locator(".msg--client .msg__text").inner_text()
    assert turn.locator(".turn-error").is_hidden()


def test_a_draft_survives_a_reload(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    page.locator("#composer-input").press_sequentially("Something I was halfway through")
    page.reload()
    page.wait_for_selector("#send-button:not([disabled])")
    assert page.locator("#composer-input").input_value() == "Something I was halfway through"
    send_turn(page, "Something I was halfway through", 1)
    page.reload()
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    assert page.locator("#composer-input").input_value() == ""


def test_markup_in_a_model_reply_stays_inert(page: Any, markup_server: LiveServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, markup_server)
    start_first_session(page)
    turn = send_turn(page, "What would you like to talk about?", 1)
    assert turn.locator(".msg--client .msg__text").inner_text() == XSS
    assert page.locator("#transcript img, #transcript script").count() == 0
    assert page.evaluate("window.__xss") is None
    page.wait_for_selector("#live-region:has-text('window.__xss=2')", state="attached")
    assert page.locator("#live-region").text_content().endswith(XSS)
    assert page.locator("#live-region *").count() == 0
    page.reload()
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    assert page.locator("#transcript img, #transcript script").count() == 0
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert page.problems == []
