"""A trainee's practice conversation in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer, screenshot

pytestmark = pytest.mark.browser


def sign_in(page: Any, server: LiveServer, name: str = "Robin Trainee") -> None:
    page.goto(server.url + "/")
    page.fill("#name-input", name)
    page.click("#signin-button")
    page.wait_for_url("**/practice")


def test_a_whole_conversation_streams_and_is_critiqued(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    assert page.locator("#offline-banner").is_visible()
    cards = page.locator("article.persona-card")
    assert cards.count() == 4
    screenshot(page, "practice")

    page.locator("article.persona-card").first.locator("button.start-session").click()
    page.wait_for_url("**/sessions/*")
    page.wait_for_selector("li.exchange--opening")

    for number, text in enumerate(
        [
            "Hello, thank you for coming. Where would you like to begin?",
            "It sounds like this has been weighing on you for a while.",
        ],
        start=1,
    ):
        page.fill("#composer-input", text)
        page.keyboard.press("Enter")
        turn = page.locator(f"li.exchange[data-turn-number='{number}']")
        turn.locator(".msg--client .msg__text").wait_for()
        page.wait_for_selector(
            f"li.exchange[data-turn-number='{number}'][data-reply-status='complete']"
        )
        turn.locator(".critique--ready").wait_for()
        assert turn.locator(".msg--trainee .msg__text").inner_text() == text
        assert turn.locator(".msg--client .msg__text").inner_text().strip()
        assert turn.locator(".critique__went-well").inner_text().strip()
    assert page.locator("#live-region").inner_text().strip()
    assert page.locator("#composer-input").input_value() == ""
    screenshot(page, "session")

    # A reload shows the same conversation from the server.
    page.reload()
    page.wait_for_selector("li.exchange[data-turn-number='2'][data-reply-status='complete']")
    assert page.locator("li.exchange[data-turn-id]").count() == 2
    assert page.problems == []


def test_model_text_is_shown_as_text_never_as_html(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, name="<img src=x onerror=alert(1)>")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert page.locator("#user-name").inner_text() == "<img src=x onerror=alert(1)>"
    page.locator("button.start-session").first.click()
    page.wait_for_url("**/sessions/*")
    payload = "<img src=x onerror=alert(2)><script>alert(3)</script>"
    page.fill("#composer-input", payload)
    page.click("#send-button")
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    turn = page.locator("li.exchange[data-turn-number='1']")
    assert turn.locator(".msg--trainee .msg__text").inner_text() == payload
    assert page.locator("li.exchange img").count() == 0
    assert dialogs == []
    assert page.problems == []


def test_leaving_mid_reply_finds_the_finished_turn_on_return(
    page: Any, slow_server: LiveServer
) -> None:
    sign_in(page, slow_server)
    page.locator("button.start-session").first.click()
    page.wait_for_url("**/sessions/*")
    page.fill("#composer-input", "What would you like to talk about today?")
    page.keyboard.press("Enter")
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='streaming']")
    partial = page.locator("li.exchange[data-turn-number='1'] .msg--client .msg__text")
    partial.wait_for()
    # Gone mid-reply: the connection closes while the client is still speaking.
    session_url = page.url
    page.goto(slow_server.url + "/practice")
    page.goto(session_url)
    done = page.wait_for_selector(
        "li.exchange[data-turn-number='1'][data-reply-status='complete']", timeout=30_000
    )
    assert done is not None
    turn = page.locator("li.exchange[data-turn-number='1']")
    assert turn.locator(".msg--trainee .msg__text").inner_text() == (
        "What would you like to talk about today?"
    )
    assert len(turn.locator(".msg--client .msg__text").inner_text().split()) >= 3
    turn.locator(".critique--ready").wait_for()
    assert page.problems == []
