"""The practice room's tools: try it differently (branches), hidden notes, hints, pause and end,
then the report and its exports, and the history of past sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, screenshot, send_turn, sign_in, start_first_session

pytestmark = pytest.mark.browser

FIRST = "Hello, thank you for coming. Where would you like to begin?"
SECOND = "You should try to get more sleep and stop worrying so much."
REDO = "It sounds like the nights have been hard. What are they like for you?"


def trainee_texts(page: Any) -> list[str]:
    return page.locator("li.exchange[data-turn-id] .msg--trainee .msg__text").all_inner_texts()


def test_try_it_differently_keeps_both_paths(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    send_turn(page, FIRST, 1)
    send_turn(page, SECOND, 2)
    second = page.locator("li.exchange[data-turn-number='2']")
    first_reply = second.locator(".msg--client .msg__text").inner_text()

    second.locator(".redo-button").click()
    assert page.locator("#branch-note").is_visible()
    assert trainee_texts(page) == [FIRST]  # the transcript now ends before the redone turn
    assert page.locator("#composer-input").input_value() == SECOND  # start from the original
    send_turn(page, REDO, 2)
    assert trainee_texts(page) == [FIRST, REDO]
    assert not page.locator("#branch-note").is_visible()
    nav = page.locator("li.exchange[data-turn-number='2'] .branch-nav")
    assert nav.locator(".branch-nav__pos").inner_text() == "Version 2 of 2"
    screenshot(page, "session-branch")

    nav.locator(".branch-prev").click()
    assert trainee_texts(page) == [FIRST, SECOND]
    assert page.locator("li.exchange[data-turn-number='2'] .branch-nav__pos").inner_text() == (
        "Version 1 of 2"
    )
    assert (
        page.locator("li.exchange[data-turn-number='2'] .msg--client .msg__text").inner_text()
        == first_reply
    )
    # The composer continues from the path shown: a third turn follows the first version.
    send_turn(page, "What was that like for you?", 3)
    assert trainee_texts(page) == [FIRST, SECOND, "What was that like for you?"]

    page.locator("li.exchange[data-turn-number='2'] .branch-next").click()
    assert trainee_texts(page) == [FIRST, REDO]

    # After a reload the latest path is shown, with both versions still reachable.
    page.reload()
    page.wait_for_selector("li.exchange[data-turn-number='3'][data-reply-status='complete']")
    assert trainee_texts(page) == [FIRST, SECOND, "What was that like for you?"]
    page.locator("li.exchange[data-turn-number='2'] .branch-next").click()
    assert trainee_texts(page) == [FIRST, REDO]
    assert page.problems == []


def test_notes_can_stay_hidden_until_the_session_ends(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    page.check("#hide-critiques")
    turn = send_turn(page, FIRST, 1)
    assert turn.locator(".critique__hidden-note").is_visible()
    assert not turn.locator(".critique__went-well").is_visible()
    page.reload()  # the choice is remembered for this session
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    assert page.locator("#hide-critiques").is_checked()
    assert not page.locator(".critique__went-well").is_visible()

    page.click("#end-session")
    page.click("#end-confirm-go")
    page.locator("#session-over").wait_for(state="visible")
    assert page.locator(".critique__went-well").is_visible()
    assert not page.locator(".critique__hidden-note").is_visible()
    assert page.problems == []


def test_hint_pause_and_end(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    page.click("#hint-button")
    hint = page.locator("#hint-text")
    hint.wait_for(state="visible")
    opening_hint = hint.inner_text()
    assert "start" in opening_hint
    page.click("#hint-close")
    assert page.locator("#hint-panel").is_hidden()
    send_turn(page, FIRST, 1)
    page.click("#hint-button")
    page.locator("#hint-panel").wait_for(state="visible")
    for _ in range(50):
        if hint.inner_text() != opening_hint:
            break
        page.wait_for_timeout(100)
    assert hint.inner_text() != opening_hint

    # Pause: the clock stands, nothing can be sent, the draft stays.
    page.click("#pause-button")
    page.locator("#paused-note").wait_for(state="visible")
    assert page.locator("#pause-button").inner_text() == "Resume"
    assert "paused" in page.locator(".session-head__clock").inner_text()
    clock = page.locator("#session-clock").inner_text()
    page.fill("#composer-input", "A thought I want to keep")
    assert page.locator("#send-button").is_disabled()
    page.keyboard.press("Enter")
    assert page.locator("li.exchange[data-turn-id]").count() == 1
    assert page.locator("#composer-input").input_value() == "A thought I want to keep"
    screenshot(page, "session-paused")
    page.reload()
    page.locator("#paused-note").wait_for(state="visible")  # the server holds the pause
    assert page.locator("#session-clock").inner_text() == clock
    assert page.locator("#composer-input").input_value() == "A thought I want to keep"

    page.click("#pause-button")
    page.locator("#paused-note").wait_for(state="hidden")
    send_turn(page, "A thought I want to keep", 2)

    page.click("#end-session")
    page.click("#end-confirm-go")
    over = page.locator("#session-over")
    over.wait_for(state="visible")
    assert page.locator("#composer").is_hidden()
    assert page.locator("li.exchange .redo-button:visible").count() == 0
    page.reload()
    page.locator("#session-over").wait_for(state="visible")
    assert page.problems == []


def test_report_exports_and_history_after_a_session(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    send_turn(page, FIRST, 1)
    send_turn(page, SECOND, 2)
    session_url = page.url
    page.click("#end-session")
    page.click("#end-confirm-go")
    link = page.locator("#report-link")
    link.wait_for(state="visible")
    link.click()
    page.wait_for_url("**/report")
    assert FIRST in page.locator("main").inner_text()
    screenshot(page, "report-from-session")
    for suffix in ("report.md", "report.json"):
        anchor = page.locator(f"a[href$='{suffix}']").first
        with page.expect_download() as info:
            anchor.click()
        download = info.value
        body = Path(download.path()).read_text(encoding="utf-8")
        assert FIRST in body, suffix

    page.goto(live_server.url + "/history")
    row = page.locator("#history-table tbody tr")
    assert row.count() == 1
    session_id = session_url.rsplit("/", 1)[1]
    assert row.get_attribute("data-session-id") == session_id
    assert row.locator("td").nth(3).inner_text() == "2"
    assert row.locator(f"a[href='/sessions/{session_id}/report']").count() == 1
    screenshot(page, "history-one")
    row.locator(f"a[href='/sessions/{session_id}']").click()
    page.wait_for_url(session_url)
    page.wait_for_selector("li.exchange[data-turn-number='2'][data-reply-status='complete']")
    assert page.problems == []


PRACTISE = """async ([persona, turns]) => {
  const headers = {'Content-Type': 'application/json', 'X-CSRF-Token':
    document.querySelector('meta[name="csrf-token"]').content};
  const session = await (await fetch('/api/sessions', {method: 'POST', headers,
    body: JSON.stringify({persona_id: persona})})).json();
  let parent = null;
  for (const [i, text] of turns.entries()) {
    const body = await (await fetch('/api/sessions/' + session.id + '/turns', {method: 'POST',
      headers, body: JSON.stringify({text, idempotency_key: 'k-' + session.id + '-' + i,
      parent_id: parent})})).text();
    parent = JSON.parse(body.split('\\n').find((l) => l.startsWith('data:')).slice(5)).turn_id;
  }
  return session.id;
}"""


def test_history_shows_the_trend_across_sessions(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    persona = page.locator("button.start-session").first.get_attribute("data-persona-id")
    directive = ["You should stop worrying.", "Just go to bed earlier and you'll be fine."]
    attuned = [
        "Welcome. Where would you like to begin today?",
        "It sounds like the nights have been hard. What are they like for you?",
        "I wonder how it is to tell me this, here, with me?",
    ]
    ids = [page.evaluate(PRACTISE, [persona, turns]) for turns in (directive, attuned, attuned)]
    page.goto(live_server.url + "/history")
    rows = page.locator("#history-table tbody tr")
    assert [rows.nth(i).get_attribute("data-session-id") for i in range(3)] == ids[::-1]
    assert [rows.nth(i).locator("td").nth(3).inner_text() for i in range(3)] == ["3", "3", "2"]
    chart = page.locator("svg#trend-chart")
    assert chart.locator("circle").count() == 3
    overall = [float(rows.nth(i).locator("td").nth(10).inner_text()) for i in (2, 1, 0)]
    assert overall[2] > overall[0]  # attuned turns rate higher than directive ones
    assert page.locator("#trend-text").inner_text().startswith("Improving")
    screenshot(page, "history")
    assert page.problems == []
