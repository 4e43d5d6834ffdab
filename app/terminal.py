"""Practice and review in a terminal: `alliance chat PERSONA` and `alliance sessions show ID`.

`chat` runs the same turn engine as the web service (`Services`), so a conversation here is a
stored session like any other: the client's reply streams in, then the critique's summary and
the client state after the turn are printed. The state is what tutors and persona authors look
at; pass `show_state=False` to practise without it, as a trainee would in the browser.

`show` prints a stored session for a tutor: for every turn the trainee's words, the reply and the
client state that produced that reply. It reads the database directly, as an operator's tool on
the server; it writes nothing but pending schema migrations. Nothing here logs transcript text.
"""

from __future__ import annotations

import asyncio
import getpass
import uuid
from collections.abc import Callable
from typing import Any, TextIO

from app.dialogue.events import CritiqueReady, Delta, ReplyDone, TurnError
from app.dialogue.state import ClientState
from app.errors import AllianceError, NotFound
from app.services import Services
from app.settings import Settings
from app.storage import repo
from app.storage.db import open_database
from app.storage.tables import CritiqueRecord, Turn

QUIT = "/quit"
_DIMENSIONS = ("recognition", "authenticity", "collaboration", "power_awareness", "boundaries")


def state_line(state: ClientState | dict[str, Any] | None, planned_minutes: int) -> str:
    """The client state in one line, as a tutor reads it."""
    if state is None:
        return "no client state recorded"
    if not isinstance(state, ClientState):
        state = ClientState.model_validate(state)
    disclosed = ", ".join(state.disclosed) or "nothing yet"
    parts = [
        f"trust {state.trust}",
        f"activation {state.activation}",
        f"rupture {state.rupture}",
        f"stance {state.stance}",
        f"disclosed {disclosed}",
        f"{state.minutes_elapsed:.1f} of {planned_minutes} min",
    ]
    if state.events_fired:
        parts.append("events " + ", ".join(state.events_fired))
    return " · ".join(parts)


def critique_lines(critique: dict[str, Any]) -> list[str]:
    """The critique's summary: the scores, the direction balance, and what to try."""
    scores = []
    for name in _DIMENSIONS:
        rating = critique.get(name) or {}
        score = rating.get("score") if rating.get("applicable", True) else None
        scores.append(f"{name.replace('_', ' ')} {'n/a' if score is None else score}")
    balance = int(critique.get("direction_balance", 0))
    return [
        " · ".join(scores) + f" · direction {balance:+d}",
        f"client marker: {critique.get('client_marker', 'none')}",
        f"the moment: {critique.get('moment', '')}",
        f"went well: {critique.get('went_well', '')}",
        f"to try: {critique.get('suggestion', '')}",
        f'for example: "{critique.get("alternative_wording", "")}"',
    ]


async def _local_user(services: Services) -> str:
    name = getpass.getuser() or "terminal"
    async with services.database.session() as db:
        user = await repo.upsert_user(
            db, subject=f"terminal:{name}", display_name=name, role="trainee"
        )
    return user.id


async def chat(
    services: Services,
    *,
    persona_id: str,
    read_line: Callable[[], str | None],
    out: TextIO,
    show_state: bool = True,
    echo: bool = False,
) -> str:
    """Hold a conversation until `/quit` or the end of input; returns the session id.

    `echo` repeats each line read, for input that is not typed at a terminal (a script).
    """
    persona = services.engine.persona(persona_id)
    session = await services.engine.start_session(
        user_id=await _local_user(services), persona_id=persona.id
    )
    name = persona.identity.name
    out.write(
        f"Practising with {name} ({persona.style}, {persona.difficulty}); "
        f"{session.planned_minutes}-minute session; client model: {session.client_label}.\n"
        f"Type what you would say and press Enter; {QUIT} ends the session.\n\n"
        f"{name}: {session.opening}\n"
    )
    if show_state:
        state = _initial_state(services, persona_id)
        out.write(f"  [client] {state_line(state, session.planned_minutes)}\n")
    parent: str | None = None
    while True:
        out.write("\nYou: ")
        out.flush()
        line = await asyncio.to_thread(read_line)
        if echo and line is not None:
            out.write(line if line.endswith("\n") else line + "\n")
        if line is None or line.strip() == QUIT:
            break
        text = line.strip()
        if not text:
            continue
        try:
            turn_id = await services.engine.submit(
                session=session, text=text, idempotency_key=uuid.uuid4().hex, parent_id=parent
            )
        except AllianceError as exc:
            out.write(f"  {exc.message}\n")
            continue
        replied = await _follow(services, session, turn_id, name, out)
        if replied:
            parent = turn_id
        async with services.database.session() as db:
            turn = await repo.get_turn(db, turn_id=turn_id)
        if show_state and turn is not None:
            after = turn.state_after or turn.client_state
            out.write(f"  [client] {state_line(after, session.planned_minutes)}\n")
    out.write(
        f"\nSession {session.id} is saved. Review it with: alliance sessions show {session.id}\n"
    )
    out.flush()
    return session.id


def _initial_state(services: Services, persona_id: str) -> ClientState:
    from app.dialogue import rules

    return rules.initial_state(services.engine.persona(persona_id))


async def _follow(services: Services, session: Any, turn_id: str, name: str, out: TextIO) -> bool:
    """Print one turn's events as they come; True when the client replied."""
    streamed: list[str] = []
    replied = False
    out.write(f"{name}: ")
    async for event in services.engine.events(session=session, turn_id=turn_id):
        if isinstance(event, Delta):
            streamed.append(event.text)
            out.write(event.text)
            out.flush()
        elif isinstance(event, ReplyDone):
            replied = True
            if "".join(streamed).strip() != event.text:
                # The character guard corrected the reply after streaming began.
                out.write(f"\n  (corrected to stay in character) {name}: {event.text}")
            out.write("\n")
        elif isinstance(event, CritiqueReady):
            out.write("  [critique] " + "\n             ".join(critique_lines(event.critique)))
            out.write("\n")
        elif isinstance(event, TurnError):
            out.write(f"\n  [{event.stage} failed] {event.message}\n")
    out.flush()
    return replied


async def show(settings: Settings, *, session_id: str, out: TextIO) -> None:
    """Print every turn of a stored session with the state that produced each reply."""
    database = open_database(settings.database_url)
    try:
        await database.upgrade()  # a database from an older version is brought up to date first
        async with database.session() as db:
            session = await repo.get_practice_session(db, session_id=session_id)
            if session is None:
                raise NotFound(
                    f"There is no practice session {session_id!r} in this database; "
                    "check the id (it is printed when a chat ends and shown in the session's "
                    "web address)."
                )
            turns = await repo.list_turns(db, session_id=session.id)
            critiques = await repo.critiques_for(db, turn_ids=[t.id for t in turns])
    finally:
        await database.close()
    out.write(
        f"Session {session.id}: persona {session.persona_id} (version "
        f"{session.persona_version}), {session.planned_minutes} minutes planned, "
        f"status {session.status}\nclient model: {session.client_label}; "
        f"evaluator: {session.evaluator_label}\n\nClient opened: {session.opening}\n"
    )
    numbers: dict[str, int] = {}
    previous: str | None = None
    for number, turn in enumerate(turns, start=1):
        numbers[turn.id] = number
        _write_turn(out, turn, number, session.planned_minutes, critiques.get(turn.id))
        if turn.parent_id != previous:
            follows = numbers.get(turn.parent_id or "", 0)
            where = f"turn {follows}" if follows else "the opening"
            out.write(f"  (a branch: this turn follows {where})\n")
        previous = turn.id
    if not turns:
        out.write("\nNo turns yet.\n")
    out.flush()


def _write_turn(
    out: TextIO, turn: Turn, number: int, planned: int, critique: CritiqueRecord | None
) -> None:
    out.write(f"\nTurn {number} ({turn.minutes_elapsed:.1f} min)\n")
    out.write(f"  Trainee: {turn.trainee_text}\n")
    if turn.reply_status == "complete":
        out.write(f"  Client:  {turn.reply_text}\n")
    else:
        out.write(f"  Client:  (no reply: {turn.reply_status}; {turn.error_message or ''})\n")
    out.write(f"  State that produced this reply: {state_line(turn.client_state, planned)}\n")
    if turn.state_after is not None:
        out.write(f"  State after this turn:          {state_line(turn.state_after, planned)}\n")
    if critique is not None:
        out.write("  Critique: " + "\n            ".join(critique_lines(critique.payload)) + "\n")
