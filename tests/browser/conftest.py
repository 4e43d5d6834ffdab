"""Browser fixtures: the real service under uvicorn in a thread, driven by Debian's Chromium.

Run these in their own pytest invocation (`pytest -m browser`): Playwright's sync API runs its
own event loop, which clashes with asyncio tests in the same process.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.llm.base import ChatModel
from app.main import create_app
from app.settings import PROJECT_ROOT, Settings
from tests.conftest import need

CHROMIUM = Path(os.environ.get("ALLIANCE_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    def __init__(self, settings: Settings, *, client_model: ChatModel | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, client_model=client_model),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def browser_settings(tmp_path: Path, delay_ms: int = 15) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}",
        client={"provider": "scripted", "scripted_delay_ms": delay_ms},  # type: ignore[arg-type]
    )


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(browser_settings(tmp_path, delay_ms=15)) as server:
        yield server


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Replies stream slowly enough to leave the page while one is under way."""
    with LiveServer(browser_settings(tmp_path, delay_ms=120)) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    need(CHROMIUM.exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.problems = problems
    yield page
    context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (vendored, read from disk) on the page: its serious and critical
    violations against WCAG 2 A/AA and axe's best practices, as {id, impact, help, targets}."""
    # Evaluated through the DevTools protocol: the page's own CSP rightly refuses inline script.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page: Any, server: LiveServer, name: str = "Robin Trainee") -> None:
    page.goto(server.url + "/")
    page.fill("#name-input", name)
    page.click("#signin-button")
    page.wait_for_url("**/practice")


def start_first_session(page: Any) -> None:
    """Start a session with the first client shown, through the content-warning step."""
    page.locator("button.start-session").first.click()
    page.locator("#start-confirm").wait_for(state="visible")
    page.click("#start-confirm-go")
    page.wait_for_url("**/sessions/*")
    page.wait_for_selector("li.exchange--opening")
    page.wait_for_selector("#send-button:not([disabled])")


def send_turn(page: Any, text: str, number: int) -> Any:
    """Type a turn, send it, and wait for its reply and its notes."""
    page.fill("#composer-input", text)
    page.keyboard.press("Enter")
    page.wait_for_selector(
        f"li.exchange[data-turn-number='{number}'][data-reply-status='complete']"
    )
    turn = page.locator(f"li.exchange[data-turn-number='{number}']")
    turn.locator(".critique--ready").wait_for(state="attached")
    page.wait_for_selector("#send-button:not([disabled])")
    return turn
