"""A client model that slips out of character: the browser shows the corrected reply, never the
slip, and keeps showing it after a reload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
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

SLIPPING = (
    "Fine, really. But how does that make you feel, hearing all this from me? "
    "As an AI language model I find people fascinating."
)
CORRECTED = "It's been a long week. The nights are the worst part, if I'm honest."


def slipping_model() -> FunctionModel:
    """Streams a reply that slips after two words, leaving nothing usable; written again, it
    stays in role."""

    async def stream(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        corrected = "# A correction" in request.messages[0].content
        async for chunk in words(CORRECTED if corrected else SLIPPING):
            await asyncio.sleep(0.02)  # slow enough for the page to show the stream
            yield chunk

    return FunctionModel(stream=stream, label="slipping test model")


@pytest.fixture
def slipping_server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(browser_settings(tmp_path), client_model=slipping_model()) as server:
        yield server


def test_the_corrected_reply_replaces_what_was_streamed(
    page: Any, slipping_server: LiveServer
) -> None:
    seen: list[str] = []
    sign_in(page, slipping_server)
    start_first_session(page)
    page.fill("#composer-input", "How has your week been?")
    page.keyboard.press("Enter")
    reply = page.locator("li.exchange[data-turn-number='1'] .msg--client .msg__text")
    # Watch the reply while it streams: its first words arrive before the slip does.
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='streaming']")
    while (
        page.locator("li.exchange[data-turn-number='1'][data-reply-status='complete']").count() == 0
    ):
        seen.append(reply.inner_text())
        page.wait_for_timeout(20)
    send_turn(page, "That sounds tiring.", 2)
    first = page.locator("li.exchange[data-turn-number='1'] .msg--client .msg__text")
    assert first.inner_text() == CORRECTED
    assert any(text.startswith("Fine") for text in seen)  # streamed, then replaced
    assert not any("make you feel" in text or "language model" in text for text in seen)
    assert "language model" not in page.locator("#transcript").inner_text()
    page.reload()
    page.wait_for_selector("li.exchange[data-turn-number='1'][data-reply-status='complete']")
    assert first.inner_text() == CORRECTED
    assert page.problems == []
