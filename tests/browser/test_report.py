"""The session report in a real browser: reached by ending a session, readable without
JavaScript, downloadable as Markdown, and printable without its buttons."""

from __future__ import annotations

from pathlib import Path
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

TURNS = [
    "Hello, thank you for coming. Where would you like to begin?",
    "It sounds like the nights have been really hard. What are they like for you?",
    "You should try to get more sleep and stop worrying so much.",
]


def test_end_a_session_read_its_report_download_and_print(
    page: Any, browser: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    for number, text in enumerate(TURNS, start=1):
        send_turn(page, text, number)
    session_url = page.url
    page.click("#end-session")
    page.click("#end-confirm-go")
    link = page.locator("#report-link")
    link.wait_for(state="visible")
    link.click()
    page.wait_for_url(session_url + "/report")

    assert page.locator("h1.report-head__title").inner_text().strip()
    assert page.locator(".report-status").inner_text() == "Session ended"
    assert page.locator("#report-open-note").count() == 0
    # The trajectory chart: an accessible image with a marker per scored turn and dimension.
    chart = page.locator("svg#trajectory-chart")
    assert chart.is_visible()
    assert chart.get_attribute("role") == "img"
    assert chart.get_attribute("aria-labelledby") == "trajectory-chart-title trajectory-chart-desc"
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 400
    assert box["height"] > 150
    rows = page.locator("#trajectory-table tbody tr")
    assert rows.count() == len(TURNS)
    dimension_cells = page.locator("#trajectory-table tbody td:not(:last-child)")
    assert dimension_cells.count() == len(TURNS) * 5
    scored = sum(1 for cell in dimension_cells.all_inner_texts() if cell.strip() != "–")
    markers = page.locator("svg#trajectory-chart g.chart__series title").count()
    assert markers > 0
    assert markers == scored
    assert page.locator("svg#balance-chart circle").count() == len(TURNS)
    for facet in ("bond", "task", "goal"):
        assert page.locator(f"#alliance-{facet} .alliance-card__value").inner_text().strip()
    assert page.locator("#balance-summary").inner_text().startswith("On average")
    assert page.locator("#strength-list > li").count() >= 2
    assert page.locator("#edge-list > li").count() >= 1
    quotes = page.locator("#strength-list blockquote p").all_inner_texts()
    assert all(any(q.rstrip("…") in t for t in TURNS) for q in quotes)
    assert page.locator("#client-rating-text").inner_text().strip()
    assert page.locator("#client-rating-score").inner_text().endswith("of 7")
    assert page.locator("#no-ruptures, #rupture-list").count() == 1
    for text in TURNS:
        assert text in page.locator(".report-conversation").inner_text()
    print_button = page.locator("#print-report")
    assert print_button.is_visible()  # shown by the page script: printing needs JavaScript
    screenshot(page, "report")
    assert axe_violations(page) == []

    with page.expect_download() as info:
        page.click("#download-md")
    download = info.value
    assert download.suggested_filename.startswith("session-report-")
    assert download.suggested_filename.endswith(".md")
    markdown = Path(download.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# Session report: ")
    assert f"**Turn 1, you:** {TURNS[0]}" in markdown
    assert "## Growth edges" in markdown

    page.emulate_media(media="print")
    for hidden in ("#download-md", "#download-json", "#print-report", ".site-header"):
        assert page.locator(hidden).is_hidden(), hidden
    assert page.locator("#report-actions").is_hidden()
    assert page.locator("svg#trajectory-chart").is_visible()
    assert page.locator("#trajectory-table").is_visible()
    pdf_ready = page.evaluate(
        "getComputedStyle(document.querySelector('.report-conversation')).breakBefore"
    )
    assert pdf_ready == "page"
    page.emulate_media(media="screen")
    assert page.locator("#download-md").is_visible()
    assert page.problems == []

    # The report needs no JavaScript: the same page, scripts off, still has its chart.
    report_url = page.url
    context = browser.new_context(
        java_script_enabled=False, storage_state=page.context.storage_state()
    )
    try:
        plain = context.new_page()
        plain.goto(report_url)
        assert plain.locator("svg#trajectory-chart").is_visible()
        assert plain.locator("#trajectory-table tbody tr").count() == len(TURNS)
        assert plain.locator("#print-report").is_hidden()
        assert plain.locator("main noscript").is_hidden()
    finally:
        context.close()


def test_a_report_of_an_open_session_covers_the_path_so_far(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server)
    start_first_session(page)
    send_turn(page, TURNS[0], 1)
    session_url = page.url
    page.goto(session_url + "/report")
    note = page.locator("#report-open-note")
    assert note.is_visible()
    assert "path so far" in note.inner_text()
    assert page.locator("#trajectory-table tbody tr").count() == 1
    note.locator("a").click()
    page.wait_for_url(session_url)
    assert page.problems == []
