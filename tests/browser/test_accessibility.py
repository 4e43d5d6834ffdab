"""Accessibility: axe-core on every main page, a phone-sized screen, and keyboard-only use.

axe-core is vendored under tests/browser/vendor/ (MPL-2.0, licence alongside) and injected from
disk, so the check needs no network."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    LiveServer,
    axe_violations,
    screenshot,
    send_turn,
    sign_in,
    start_first_session,
)

pytestmark = pytest.mark.browser


def test_no_serious_violations_on_the_main_pages(page: Any, live_server: LiveServer) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    page.goto(live_server.url + "/")
    found["signin"] = axe_violations(page)
    screenshot(page, "signin")
    sign_in(page, live_server)
    found["practice"] = axe_violations(page)
    start_first_session(page)
    send_turn(page, "Hello, thank you for coming. Where would you like to begin?", 1)
    page.click("#hint-button")
    page.locator("#hint-panel").wait_for(state="visible")
    found["session"] = axe_violations(page)
    page.click("#end-session")
    page.locator("#end-confirm").wait_for(state="visible")
    found["end-dialog"] = axe_violations(page)
    page.click("#end-confirm-go")
    page.locator("#session-over").wait_for(state="visible")
    found["session-ended"] = axe_violations(page)
    session_url = page.url
    page.goto(live_server.url + "/history")
    found["history"] = axe_violations(page)
    page.goto(session_url + "/report")
    page.locator("main").wait_for()
    found["report"] = axe_violations(page)
    assert {name: v for name, v in found.items() if v} == {}


def test_a_phone_sized_screen(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    try:
        sign_in(page, live_server)
        no_sideways = "document.documentElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(no_sideways)
        screenshot(page, "phone-practice", full_page=False)
        start_first_session(page)
        turn = send_turn(page, "Hello, thank you for coming. Where would you like to begin?", 1)
        assert page.evaluate(no_sideways)
        # The notes sit under the turn, not beside it.
        dialogue = turn.locator(".exchange__dialogue").bounding_box()
        critique = turn.locator(".critique").bounding_box()
        assert critique["y"] >= dialogue["y"] + dialogue["height"] - 1
        assert abs(critique["x"] - dialogue["x"]) < 2
        assert page.locator("#composer-input").is_visible()
        assert page.locator("#send-button").is_visible()
        turn.locator(".msg--trainee").scroll_into_view_if_needed()
        screenshot(page, "phone-session", full_page=False)
    finally:
        context.close()


def test_notes_sit_beside_the_turn_on_a_wide_screen(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    turn = send_turn(page, "Hello, thank you for coming. Where would you like to begin?", 1)
    dialogue = turn.locator(".exchange__dialogue").bounding_box()
    critique = turn.locator(".critique").bounding_box()
    assert critique["x"] > dialogue["x"] + dialogue["width"] - 1


def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} was not reached with Tab")


def test_keyboard_only(page: Any, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    tab_to(page, "#name-input")
    page.keyboard.type("Kim Keyboard")
    page.keyboard.press("Enter")
    page.wait_for_url("**/practice")

    tab_to(page, "#filter-style")
    tab_to(page, "button.start-session")
    page.keyboard.press("Enter")
    page.locator("#start-confirm").wait_for(state="visible")
    assert page.evaluate("document.activeElement.id") == "start-confirm-go"
    page.keyboard.press("Enter")
    page.wait_for_url("**/sessions/*")
    page.wait_for_selector("#send-button:not([disabled])")

    tab_to(page, "#composer-input")
    page.keyboard.type("Hello. Where would you like to start today?")
    page.keyboard.press("Enter")
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    page.wait_for_selector("#send-button:not([disabled])")
    # Redo the turn from the keyboard, then switch versions.
    page.locator("li.exchange[data-turn-number='1'] .redo-button").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "composer-input"
    page.keyboard.press("Control+A")
    page.keyboard.type("Welcome. What feels most important to talk about?")
    page.keyboard.press("Enter")
    page.wait_for_selector("li.exchange[data-turn-number='1'] .branch-nav:not([hidden])")
    page.wait_for_selector("#send-button:not([disabled])")
    tab_to(page, "li.exchange[data-turn-number='1'] .branch-prev")
    page.keyboard.press("Enter")
    text = page.locator("li.exchange[data-turn-number='1'] .msg--trainee .msg__text")
    assert text.inner_text() == "Hello. Where would you like to start today?"
    assert page.problems == []
