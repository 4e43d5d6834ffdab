"""`alliance chat` and `alliance sessions show`: a terminal conversation through the real turn
engine with the offline demo model, and the review of a stored session a tutor reads."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from app import terminal
from app.errors import NotFound
from app.llm.base import ChatRequest, StreamChunk
from app.services import Services
from app.settings import PROJECT_ROOT, Settings
from tests.doubles import FunctionModel, words

GREETING = (
    "Hi Farid, it's good to see you. You mentioned Tom's been away two months now, and you "
    "look like you haven't slept much. How have the nights been?"
)
DISTANT = ["Okay.", "Mm.", "I see."]


def lines(*texts: str | None) -> Callable[[], str | None]:
    """A stand-in for standard input: one line per call, then the end of input (None)."""
    queue: Iterator[str | None] = iter(texts)
    return lambda: next(queue, None)


async def test_chat_streams_the_reply_then_the_critique_and_the_state(settings: Settings) -> None:
    out = io.StringIO()
    services = await Services.open(settings)
    try:
        session_id = await terminal.chat(
            services,
            persona_id="farid-anxious",
            read_line=lines(GREETING, *DISTANT, "/quit", "never read"),
            out=out,
        )
    finally:
        await services.close()
    text = out.getvalue()
    assert "Practising with Farid Haddad (anxious, intermediate)" in text
    assert text.count("[critique]") == 4
    states = re.findall(r"\[client\] (.+)", text)
    # The opening state, then one after each of the four turns.
    assert len(states) == 5
    assert states[0].startswith("trust 40 · activation 55 · rupture none · stance deferring")
    assert "disclosed tom-in-bergen" in states[1]
    assert "rupture withdrawal · stance withdrawn" in states[4]
    assert "rupture withdrawal" not in states[3]
    trusts = [int(re.match(r"trust (\d+)", s).group(1)) for s in states]  # type: ignore[union-attr]
    assert trusts[1] > trusts[2] > trusts[3] > trusts[4]
    assert re.search(r"\d+\.\d of 50 min", states[4])
    assert f"alliance sessions show {session_id}" in text
    assert "never read" not in text

    shown = io.StringIO()
    await terminal.show(settings, session_id=session_id, out=shown)
    review = shown.getvalue()
    for trainee in (GREETING, *DISTANT):
        assert f"Trainee: {trainee}\n" in review
    assert review.count("State that produced this reply: ") == 4
    produced = re.findall(r"State that produced this reply: (.+)", review)
    # The state that produced each reply is the state after the turn before: it lags one turn.
    assert produced[0] == states[0]
    assert produced[1:] == states[1:4]
    replies = re.findall(r"Client:  (.+)", review)
    assert len(replies) == 4
    assert all(reply in text for reply in replies)  # what was streamed is what was stored


async def test_chat_ends_at_the_end_of_input_and_can_hide_the_state(settings: Settings) -> None:
    out = io.StringIO()
    services = await Services.open(settings)
    try:
        await terminal.chat(
            services,
            persona_id="ines-avoidant",
            read_line=lines("What would be most useful to you today?"),
            out=out,
            show_state=False,
            echo=True,
        )
    finally:
        await services.close()
    text = out.getvalue()
    assert "You: What would be most useful to you today?\n" in text
    assert "[critique]" in text
    assert "[client]" not in text
    assert "trust" not in text


async def test_chat_shows_when_the_character_guard_corrected_a_reply(settings: Settings) -> None:
    async def slipping(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        corrected = "# A correction" in request.messages[0].content
        text = "Fine. I suppose. It's been a week." if corrected else "As an AI, I feel nothing."
        async for chunk in words(text):
            yield chunk

    out = io.StringIO()
    services = await Services.open(settings, client_model=FunctionModel(stream=slipping))
    try:
        await terminal.chat(
            services, persona_id="daniel-secure", read_line=lines("How are you?"), out=out
        )
    finally:
        await services.close()
    text = out.getvalue()
    assert "(corrected to stay in character) Daniel Mensah: Fine. I suppose. It's been a week." in (
        text
    )
    assert "As an AI" not in text


async def test_showing_a_missing_session_names_what_to_check(settings: Settings) -> None:
    with pytest.raises(NotFound, match="no practice session 'not-a-session'"):
        await terminal.show(settings, session_id="not-a-session", out=io.StringIO())


# -- the commands, as a person runs them -----------------------------------------------------------


def run_cli(args: list[str], database: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ALLIANCE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "ALLIANCE_CLIENT__PROVIDER": "scripted",
        "ALLIANCE_CLIENT__SCRIPTED_DELAY_MS": "0",
        "ALLIANCE_EVALUATOR__PROVIDER": "scripted",
    }
    return subprocess.run(  # the project's own CLI, with a fixed argument list
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_chat_and_show_from_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "alliance.db"
    chat = run_cli(
        ["chat", "shona-disorganised", "--minutes", "30"],
        database,
        stdin="Hi Shona. I'm glad you came. Where would you like to start?\n/quit\n",
    )
    assert chat.returncode == 0, chat.stderr
    assert "Shona McLeod: " in chat.stdout
    assert "You: Hi Shona. I'm glad you came. Where would you like to start?" in chat.stdout
    assert re.search(r"\[client\] trust \d+ · activation \d+ · rupture \w+", chat.stdout)
    assert "of 30 min" in chat.stdout
    session_id = re.search(r"alliance sessions show (\w+)", chat.stdout).group(1)  # type: ignore[union-attr]

    show = run_cli(["sessions", "show", session_id], database)
    assert show.returncode == 0, show.stderr
    assert "persona shona-disorganised" in show.stdout
    assert "Trainee: Hi Shona. I'm glad you came. Where would you like to start?" in show.stdout
    assert "State that produced this reply: trust 30 · activation 60" in show.stdout

    missing = run_cli(["sessions", "show", "0" * 32], database)
    assert missing.returncode == 1
    assert "no practice session" in missing.stderr


def test_chat_with_an_unknown_persona_lists_the_real_ones(tmp_path: Path) -> None:
    result = run_cli(["chat", "nobody-here", "--scratch"], tmp_path / "unused.db", stdin="")
    assert result.returncode == 2
    assert "There is no persona 'nobody-here'; choose one of:" in result.stderr
    assert "farid-anxious" in result.stderr
    assert not (tmp_path / "unused.db").exists()  # --scratch kept the configured database unused


def run_bench(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # the project's own CLI, with a fixed argument list
        [sys.executable, "-m", "app.cli", "bench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_bench_runs_python_m_bench_with_the_same_arguments(tmp_path: Path) -> None:
    # From another folder too: the checkout the app runs from holds bench/.
    shown = run_bench(["--help"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: python -m bench")
    assert "--levels" in shown.stdout
    # Arguments pass through untouched, and the benchmark's exit status comes back.
    refused = run_bench(["--levels"], PROJECT_ROOT)
    assert refused.returncode == 2
    assert "python -m bench: error: argument --levels: expected one argument" in refused.stderr


def test_bench_without_the_repository_says_where_to_run_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app import cli

    monkeypatch.setattr(cli, "PROJECT_ROOT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["bench", "--help"]) == 2
    message = capsys.readouterr().err
    assert "not part of the installed package" in message
    assert "root of a checkout" in message
