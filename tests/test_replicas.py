"""Two real `alliance serve` processes on one PostgreSQL database, as behind a load balancer.

Nothing needed for correctness may live in one process: a turn started on one replica is
followed from the other, one idempotency key sent to both makes one turn, a turn that failed
on one is retried on the other, and a turn whose replica died is found interrupted, but only
once no replica can still be writing it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, _create_pg_database, _drop_pg_database, need, parse_sse

pytestmark = pytest.mark.postgres

ALLIANCE = Path(sys.executable).parent / "alliance"
PHRASE = "the lighthouse keeper's green umbrella"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Replica:
    def __init__(self, workdir: Path, database_url: str, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"replica-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
        env |= {
            "ALLIANCE_DATABASE_URL": database_url,
            "ALLIANCE_LOG_FORMAT": "json",
            "ALLIANCE_LOG_LEVEL": "DEBUG",
            "ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "0",
            **settings,
        }
        with self.log.open("wb") as out:
            # The working directory holds no .env file: only `env` configures the service.
            self.process = subprocess.Popen(
                [str(ALLIANCE), "serve", "--port", str(self.port)],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_alive(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"replica exited: {self.log.read_text()[-3000:]}")
            try:
                # /healthz, not /readyz: a replica whose model is down is alive but not ready.
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("replica did not become ready in 30 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    need(bool(POSTGRES_URL), "set ALLIANCE_TEST_POSTGRES_URL to run the replica tests")
    url = await _create_pg_database(POSTGRES_URL)
    try:
        yield url
    finally:
        await _drop_pg_database(POSTGRES_URL, url)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Any]:
    started: list[Replica] = []

    def start(database_url: str, *settings: dict[str, str]) -> list[Replica]:
        """Start one replica per settings dict, side by side, and wait until all are alive."""
        new = [Replica(tmp_path, database_url, **each) for each in settings]
        started.extend(new)
        for replica in new:
            replica.wait_alive()
        return new

    yield start
    for replica in started:
        replica.stop()
    for replica in started:
        # Structured logs from a real process, at DEBUG: JSON lines, never transcript text.
        text = replica.log.read_text()
        assert PHRASE not in text
        assert "umbrella" not in text
        for line in text.splitlines():
            if line.startswith("{"):
                json.loads(line)


class Browser:
    """One signed-in trainee; the same cookie is valid on every replica (sessions are stored)."""

    def __init__(self, cookies: httpx.Cookies, csrf: str) -> None:
        self.cookies, self.csrf = cookies, csrf

    @classmethod
    async def sign_in(cls, replica: Replica) -> Browser:
        async with httpx.AsyncClient(base_url=replica.url) as web:
            response = await web.post("/api/auth/dev", json={"name": "Replica Trainee"})
            assert response.status_code == 200, response.text
            return cls(web.cookies, response.json()["csrf_token"])

    def client(self, replica: Replica) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=replica.url, cookies=self.cookies, timeout=60)

    async def start_session(self, replica: Replica) -> str:
        async with self.client(replica) as web:
            persona = (await web.get("/api/personas")).json()[0]["id"]
            response = await web.post(
                "/api/sessions", json={"persona_id": persona}, headers={"X-CSRF-Token": self.csrf}
            )
            assert response.status_code == 201, response.text
            session_id: str = response.json()["id"]
            return session_id

    async def send(self, replica: Replica, session: str, text: str, key: str) -> list[Any]:
        async with self.client(replica) as web:
            response = await web.post(
                f"/api/sessions/{session}/turns",
                json={"text": text, "idempotency_key": key},
                headers={"X-CSRF-Token": self.csrf, "Accept": "text/event-stream"},
            )
            assert response.status_code == 200, response.text
            return parse_sse(response.text)

    async def read(self, replica: Replica, session: str) -> dict[str, Any]:
        async with self.client(replica) as web:
            response = await web.get(f"/api/sessions/{session}")
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body


def only(events: list[Any], name: str) -> dict[str, Any]:
    found = [data for event, data in events if event == name]
    assert len(found) == 1, (name, events)
    return found[0]


async def first_delta(browser: Browser, replica: Replica, session: str, text: str) -> Any:
    """Send a turn and return (turn id, the task finishing its stream) once text is flowing."""
    seen: asyncio.Queue[str] = asyncio.Queue()

    async def stream() -> str:
        body = ""
        async with (
            browser.client(replica) as web,
            web.stream(
                "POST",
                f"/api/sessions/{session}/turns",
                json={"text": text, "idempotency_key": uuid.uuid4().hex},
                headers={"X-CSRF-Token": browser.csrf, "Accept": "text/event-stream"},
            ) as response,
        ):
            async for line in response.aiter_lines():
                body += line + "\n"
                if line.startswith("event: delta"):
                    seen.put_nowait(body)
        return body

    task = asyncio.create_task(stream())
    so_far = await asyncio.wait_for(seen.get(), 30)
    turn_id = only(parse_sse(so_far), "turn")["turn_id"]
    return turn_id, task


async def test_a_turn_started_on_one_replica_is_followed_on_the_other(
    pg_url: str, replicas: Any
) -> None:
    a, b = replicas(pg_url, {"ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "150"}, {})
    browser = await Browser.sign_in(a)
    session = await browser.start_session(b)
    turn_id, on_a = await first_delta(browser, a, session, f"Tell me about {PHRASE}.")
    # B has no run for this turn: it must follow it, not declare it interrupted.
    async with browser.client(b) as web:
        followed = parse_sse(
            (await web.get(f"/api/sessions/{session}/turns/{turn_id}/events")).text
        )
    direct = parse_sse((await on_a).replace("\r\n", "\n"))
    assert [name for name, _ in followed] == ["turn", "reply", "critique", "done"]
    assert only(followed, "reply")["text"] == only(direct, "reply")["text"]
    assert only(followed, "critique") == only(direct, "critique")
    read = await browser.read(a, session)
    assert [t["reply_status"] for t in read["turns"]] == ["complete"]


async def test_one_idempotency_key_on_both_replicas_makes_one_turn(
    pg_url: str, replicas: Any
) -> None:
    slow = {"ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "20"}
    a, b = replicas(pg_url, slow, slow)
    browser = await Browser.sign_in(a)
    session = await browser.start_session(a)
    key = uuid.uuid4().hex
    text = "Where would you like to begin today?"
    on_a, on_b = await asyncio.gather(
        browser.send(a, session, text, key), browser.send(b, session, text, key)
    )
    assert only(on_a, "turn")["turn_id"] == only(on_b, "turn")["turn_id"]
    assert only(on_a, "reply")["text"] == only(on_b, "reply")["text"]
    assert "error" not in [name for name, _ in on_a + on_b]
    read = await browser.read(b, session)
    assert len(read["turns"]) == 1
    conn = await asyncpg.connect(
        make_url(pg_url).set(drivername="postgresql").render_as_string(False)
    )
    try:
        attempts = await conn.fetchval("SELECT reply_attempts FROM turns")
        assert await conn.fetchval("SELECT count(*) FROM turns") == 1
    finally:
        await conn.close()
    assert attempts == 1  # one reply was written, by one replica


async def test_a_turn_that_failed_on_one_replica_is_retried_on_the_other(
    pg_url: str, replicas: Any
) -> None:
    # A's model server is down (nothing listens on that port); B's model works.
    down = {
        "ALLIANCE_CLIENT__PROVIDER": "openai_compat",
        "ALLIANCE_CLIENT__BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "ALLIANCE_CLIENT__MODEL": "absent",
        "ALLIANCE_CLIENT__MAX_RETRIES": "0",
    }
    a, b = replicas(pg_url, down, {})
    browser = await Browser.sign_in(b)
    session = await browser.start_session(b)
    failed = await browser.send(a, session, f"About {PHRASE}...", uuid.uuid4().hex)
    error = only(failed, "error")
    assert error["kind"] == "llm_unavailable"
    assert error["retryable"] is True
    turn_id = only(failed, "turn")["turn_id"]
    async with browser.client(b) as web:
        retried = parse_sse(
            (
                await web.post(
                    f"/api/sessions/{session}/turns/{turn_id}/retry",
                    headers={"X-CSRF-Token": browser.csrf},
                )
            ).text
        )
    reply = only(retried, "reply")["text"]
    assert reply
    read = await browser.read(a, session)
    assert [(t["id"], t["reply_status"], t["reply"]) for t in read["turns"]] == [
        (turn_id, "complete", reply)
    ]


async def test_a_turn_whose_replica_died_is_interrupted_once_it_is_stale(
    pg_url: str, replicas: Any
) -> None:
    limits = {"ALLIANCE_TURN_MAX_SECONDS": "10"}  # stale 15 s after the reply started
    a, b = replicas(pg_url, {"ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "400", **limits}, limits)
    browser = await Browser.sign_in(a)
    session = await browser.start_session(a)
    turn_id, on_a = await first_delta(browser, a, session, "Take whatever time you need.")
    a.kill()
    with pytest.raises(httpx.HTTPError):
        await on_a
    started = time.monotonic()
    async with browser.client(b) as web:
        followed = parse_sse(
            (await web.get(f"/api/sessions/{session}/turns/{turn_id}/events")).text
        )
    waited = time.monotonic() - started
    error = only(followed, "error")
    assert error["kind"] == "llm_interrupted"
    assert error["retryable"] is True
    assert 5 < waited < 30  # not at once (it might have been alive elsewhere), not forever
    async with browser.client(b) as web:
        retried = parse_sse(
            (
                await web.post(
                    f"/api/sessions/{session}/turns/{turn_id}/retry",
                    headers={"X-CSRF-Token": browser.csrf},
                )
            ).text
        )
    assert only(retried, "reply")["text"]
