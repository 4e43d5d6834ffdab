"""A client model that slips out of character: the browser ends up showing the corrected reply,
and keeps showing it after a reload. With no holdback (the default) the first words stream at
once and the slip's first words may show for a moment; holding three words back keeps a short
slip off the page altogether."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

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

# Slips at "make you feel" (a counsellor's question), then speaks as an AI.
SLIPPING = (
    "Fine, really. But how does that make you feel, hearing all this from me? "
    "As an AI language model I find people fascinating."
)
# Slips at "As an AI", within three words of the slip's start.
SHORT_SLIP = "Fine, really. As an AI language model I find people fascinating."
CORRECTED = "It's been a long week. The nights are the worst part, if I'm honest."


def slipping_model(slip: str) -> FunctionModel:
    """Streams a reply that slips early, leaving nothing usable; written again, it stays in role."""

    async def stream(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        corrected = "# A correction" in request.messages[0].content
        async for chunk in words(CORRECTED if corrected else slip):
            await asyncio.sleep(0.02)  # slow enough for the page to show the stream
            yield chunk

    return FunctionModel(stream=stream, label="slipping test model")


def watch_first_reply(page: Any, server: LiveServer) -> list[str]:
    """Send a turn and record the client's reply text as it streams, until it is complete."""
    seen: list[str] = []
    sign_in(page, server)
    start_first_session(page)
    page.fill("#composer-input", "How has your week been?")
    page.keyboard.press("Enter")
    reply = page.locator("li.exchange[data-turn-number='1'] .msg--client .msg__text")
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='streaming']")
    while (
        page.locator("li.exchange[data-turn-number='1'][data-reply-status='complete']").count() == 0
    ):
        seen.append(reply.inner_text())
        page.wait_for_timeout(10)
    return seen


def assert_corrected_and_kept(page: Any) -> None:
    send_turn(page, "That sounds tiring.", 2)
    first = page.locator("li.exchange[data-turn-number='1'] .msg--client .msg__text")
    assert first.inner_text() == CORRECTED
    assert "language model" not in page.locator("#transcript").inner_text()
    page.reload()
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    assert first.inner_text() == CORRECTED
    assert page.problems == []


def test_the_corrected_reply_replaces_what_was_streamed(page: Any, tmp_path: Path) -> None:
    with LiveServer(browser_settings(tmp_path), client_model=slipping_model(SLIPPING)) as server:
        seen = watch_first_reply(page, server)
        assert any(text.startswith("Fine") for text in seen)  # streamed, then replaced
        # Relaying stopped at the word that completed the slip; nothing after it was shown.
        assert not any("feel" in text or "language model" in text for text in seen)
        assert_corrected_and_kept(page)


def test_with_a_holdback_a_short_slip_is_never_shown(page: Any, tmp_path: Path) -> None:
    settings = browser_settings(tmp_path).model_copy(update={"guard_holdback_words": 3})
    with LiveServer(settings, client_model=slipping_model(SHORT_SLIP)) as server:
        seen = watch_first_reply(page, server)
        assert any(text.startswith("Fine") for text in seen)
        assert not any("As" in text or "AI" in text for text in seen)
        assert_corrected_and_kept(page)
