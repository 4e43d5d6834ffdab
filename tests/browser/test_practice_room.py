"""A trainee's practice conversation in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveServer, screenshot, send_turn, sign_in, start_first_session

pytestmark = pytest.mark.browser

WATCH_STREAM = """() => {
  window.__replyLengths = [];
  const transcript = document.getElementById('transcript');
  new MutationObserver(() => {
    const li = transcript.querySelector("li.exchange[data-turn-number='1']");
    if (!li) return;
    const text = li.querySelector('.msg--client .msg__text').textContent;
    const last = window.__replyLengths[window.__replyLengths.length - 1];
    if (text.length && text.length !== last) window.__replyLengths.push(text.length);
  }).observe(transcript, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def test_a_whole_conversation_streams_and_is_critiqued(page: Any, slow_server: LiveServer) -> None:
    sign_in(page, slow_server)
    assert page.locator("#offline-banner").is_visible()
    cards = page.locator("article.persona-card")
    assert cards.count() >= 1
    assert page.locator("#filter-count").inner_text() == f"Showing all {cards.count()} clients"
    screenshot(page, "practice", full_page=False)

    start_first_session(page)
    page.evaluate(WATCH_STREAM)
    texts = [
        "Hello, thank you for coming. Where would you like to begin?",
        "It sounds like this has been weighing on you for a while.",
    ]
    for number, text in enumerate(texts, start=1):
        turn = send_turn(page, text, number)
        assert turn.locator(".msg--trainee .msg__text").inner_text() == text
        assert turn.locator(".msg--client .msg__text").inner_text().strip()
        assert turn.locator(".critique__went-well").inner_text().strip()
    # The first reply grew in several steps before it was complete: it streamed.
    lengths = page.evaluate("window.__replyLengths")
    assert len(lengths) >= 3, lengths
    assert lengths == sorted(lengths)
    # The live region holds the finished reply, not a fragment.
    last_reply = page.locator("li.exchange[data-turn-number='2'] .msg--client .msg__text")
    assert page.locator("#live-region").inner_text().endswith(last_reply.inner_text())
    assert page.locator("#composer-input").input_value() == ""
    clock = page.locator("#session-clock").inner_text()
    assert clock.endswith("min")
    assert " of " in clock
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "session", full_page=False)

    # A reload shows the same conversation from the server.
    page.reload()
    page.wait_for_selector("li.exchange[data-turn-number='2'][data-reply-status='complete']")
    assert page.locator("li.exchange[data-turn-id]").count() == 2
    assert page.problems == []


def test_trainee_text_is_shown_as_text_never_as_html(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, name="<img src=x onerror=alert(1)>")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert page.locator("#user-name").inner_text() == "<img src=x onerror=alert(1)>"
    start_first_session(page)
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
    start_first_session(page)
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


def test_filters_narrow_the_clients_and_warnings_come_before_starting(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    items = page.locator(".persona-list__item")
    total = items.count()
    styles = page.eval_on_selector_all(
        "#filter-style option", "os => os.map(o => o.value).filter(Boolean)"
    )
    assert styles
    for style in styles:
        page.select_option("#filter-style", style)
        visible = page.locator(".persona-list__item:visible")
        assert visible.count() >= 1
        assert all(
            visible.nth(i).get_attribute("data-style") == style for i in range(visible.count())
        )
        assert page.locator("#filter-count").inner_text() == (
            f"Showing {visible.count()} of {total} clients"
            if visible.count() < total
            else f"Showing all {total} clients"
        )
    page.select_option("#filter-style", "")
    levels = page.eval_on_selector_all(
        "#filter-difficulty option", "os => os.map(o => o.value).filter(Boolean)"
    )
    page.select_option("#filter-difficulty", levels[0])
    visible = page.locator(".persona-list__item:visible")
    assert all(
        visible.nth(i).get_attribute("data-difficulty") == levels[0] for i in range(visible.count())
    )
    page.select_option("#filter-difficulty", "")

    # The confirm step lists the card's content warnings; cancelling starts nothing.
    card = page.locator("article.persona-card").first
    expected = card.locator(".content-warnings__list li").all_inner_texts() or ["None listed"]
    card.locator("button.start-session").click()
    dialog = page.locator("#start-confirm")
    dialog.wait_for(state="visible")
    assert dialog.locator("#start-confirm-warnings li").all_inner_texts() == expected
    screenshot(page, "start-confirm", full_page=False)
    page.click("#start-confirm-cancel")
    dialog.wait_for(state="hidden")
    assert page.url.endswith("/practice")
    assert page.evaluate("document.activeElement.classList.contains('start-session')")
    assert page.problems == []
