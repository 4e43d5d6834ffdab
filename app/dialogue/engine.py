"""The turn engine: one trainee turn, from stored text to stored reply and critique.

    submit  -> the trainee turn is written (one transaction), and its run starts, detached
               from the request that asked for it, while the transaction commits: the model's
               request is on its way before the commit returns, and nothing is relayed or
               stored for the turn until the commit has succeeded
    run     -> client reply streamed from the model, deltas relayed as they arrive
            -> critique produced concurrently, started once the reply is under way so that
               it can never delay the client's first token
            -> reply stored, critique stored, then the state the next reply will use
    attach  -> a live run is followed; a finished turn is replayed from the database

Nothing is written per token. This module never logs transcript text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.dialogue import remote, rules
from app.dialogue.events import (
    CritiqueReady,
    Delta,
    Done,
    Event,
    ReplyDone,
    TurnError,
    TurnStored,
)
from app.dialogue.guard import CharacterGuard, keep_in_character
from app.dialogue.prompting import client_request
from app.dialogue.relay import TurnRun
from app.dialogue.scene import ClientScene
from app.dialogue.state import ClientState
from app.dialogue.watch import StreamWatch
from app.errors import (
    AllianceError,
    Conflict,
    InvalidInput,
    LLMBadResponse,
    LLMError,
    LLMTimeout,
    NotFound,
)
from app.evaluator.judge import Evaluator
from app.evaluator.schema import Critique, JudgeInput
from app.limits import TurnLimits
from app.llm.base import ChatModel, ChatRequest, Usage
from app.observability import metrics
from app.personas import Persona
from app.prompts import Prompts
from app.storage import repo
from app.storage.db import Database
from app.storage.tables import CritiqueRecord, PracticeSession, Turn, new_id

log = logging.getLogger(__name__)

INTERRUPTED = remote.INTERRUPTED

# Reads the practice session a turn is sent to, in the transaction that stores the turn; raises
# when the sender may not write to it.
SessionLoader = Callable[[AsyncSession], Awaitable[PracticeSession]]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    planned_minutes: int
    history_turns: int
    max_turn_chars: int
    client_max_tokens: int
    client_temperature: float
    parent_state_wait: float = 30.0
    # The longest a reply may stream; other replicas rely on it to spot abandoned turns.
    turn_max_seconds: float = 180.0
    # Complete words the character guard holds back from the relay (0: relay each piece at once).
    guard_holdback_words: int = 0


def path_to(turns: list[Turn], turn_id: str | None) -> list[Turn]:
    """The turns from the start of the conversation down to `turn_id`, oldest first."""
    by_id = {turn.id: turn for turn in turns}
    path: list[Turn] = []
    current = by_id.get(turn_id) if turn_id else None
    while current is not None:
        path.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    path.reverse()
    return path


def iso(turn: Turn) -> str:
    return repo.aware(turn.created_at).isoformat()


class TurnEngine:
    def __init__(
        self,
        *,
        database: Database,
        personas: dict[str, Persona],
        prompts: Prompts,
        client_model: ChatModel,
        evaluator: Evaluator,
        config: EngineConfig,
        limits: TurnLimits | None = None,
    ) -> None:
        self.database = database
        self.limits = limits
        self.personas = personas
        self.prompts = prompts
        self.client_model = client_model
        self.evaluator = evaluator
        self.config = config
        self._runs: dict[str, TurnRun] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stale_after = remote.stale_after(config.turn_max_seconds)
        # SQLite is served by one process; PostgreSQL may have replicas writing other turns.
        self._single_process = database.engine.dialect.name == "sqlite"

    # -- sessions ---------------------------------------------------------------------------

    def persona(self, persona_id: str) -> Persona:
        persona = self.personas.get(persona_id)
        if persona is None:
            raise NotFound("That simulated client does not exist (any more). Choose another.")
        return persona

    async def start_session(self, *, user_id: str, persona_id: str) -> PracticeSession:
        persona = self.persona(persona_id)
        rng = random.Random()  # noqa: S311 - choosing an opening line, not a secret
        async with self.database.session() as db:
            return await repo.create_practice_session(
                db,
                user_id=user_id,
                persona_id=persona.id,
                persona_version=persona.version,
                planned_minutes=self.config.planned_minutes,
                opening=rng.choice(persona.opening_lines),
                client_label=self.client_model.label,
                evaluator_label=self.evaluator.label,
            )

    # -- turns ------------------------------------------------------------------------------

    async def submit(
        self, *, session: PracticeSession, text: str, idempotency_key: str, parent_id: str | None
    ) -> str:
        """Store the trainee turn and start its run; a repeated key returns the first turn."""

        async def given(_db: AsyncSession) -> PracticeSession:
            return session

        _, turn_id = await self.submit_to(
            given, text=text, idempotency_key=idempotency_key, parent_id=parent_id
        )
        return turn_id

    async def submit_to(
        self, load: SessionLoader, *, text: str, idempotency_key: str, parent_id: str | None
    ) -> tuple[PracticeSession, str]:
        """`submit`, with the session read by `load` in the transaction that stores the turn
        (one round trip fewer before the model is called); returns the session and turn id."""
        started = time.perf_counter()
        # One transaction: the session is read, the turn is written already claimed, and the
        # conversation it continues is read alongside; the model is called while it commits.
        # Its run is registered first, so no reader ever sees the claimed turn without a run.
        run = TurnRun(new_id())
        self._runs[run.turn_id] = run
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task: asyncio.Task[None] | None = None
        try:
            async with self.database.session() as db:
                session = await load(db)
                if session in db:
                    # Kept usable after the transaction, which a repeated key rolls back.
                    db.expunge(session)
                text = self._accepted(session, text)
                await self._check_limits(db, session, idempotency_key)
                path = await self._path(db, session, parent_id)
                turn, created = await repo.insert_turn(
                    db,
                    session_id=session.id,
                    parent_id=parent_id,
                    idempotency_key=idempotency_key,
                    text=text,
                    turn_id=run.turn_id,
                    claim=True,
                    commit=False,
                )
                if created:
                    # The run builds the prompt and sends it while the commit makes its round
                    # trip; it waits for `stored` before it relays or stores anything.
                    task = self._start(session, turn, started, run=run, path=path, stored=stored)
                    await db.commit()
        except BaseException:
            self._runs.pop(run.turn_id, None)
            if task is not None:
                stored.cancel()  # the turn was not stored: its run stops without a trace
                task.cancel()
            raise
        if not created:
            self._runs.pop(run.turn_id, None)
            if turn.trainee_text != text or turn.parent_id != parent_id:
                raise Conflict("That request key was already used for a different turn.")
            return session, turn.id
        run.publish(turn_stored(turn))
        stored.set_result(None)  # only this method resolves or cancels it
        return session, turn.id

    def _accepted(self, session: PracticeSession, text: str) -> str:
        """The turn's text, once it and the session can take a new turn."""
        text = text.strip()
        if not text:
            raise InvalidInput("Write something to say to the client first.")
        if len(text) > self.config.max_turn_chars:
            raise InvalidInput(
                f"That turn is longer than {self.config.max_turn_chars} characters; shorten it."
            )
        if session.status == "paused":
            raise Conflict("This session is paused; resume it to carry on.")
        if session.status != "active":
            raise Conflict("This session has ended; start a new one to keep practising.")
        return text

    async def _check_limits(
        self, db: AsyncSession, session: PracticeSession, idempotency_key: str
    ) -> None:
        """A new turn must fit the limits before anything is stored (a refused turn's text
        stays in the trainee's draft); a repeated request is answered from its first turn."""
        if self.limits is not None:
            await self.limits.check(
                db, user_id=session.user_id, repeating=(session.id, idempotency_key)
            )

    async def _path(
        self, db: AsyncSession, session: PracticeSession, parent_id: str | None
    ) -> list[Turn]:
        """The turns a reply to a child of `parent_id` needs (its history), oldest first."""
        if parent_id is None:
            return []
        path = await repo.turn_path(
            db, session_id=session.id, turn_id=parent_id, depth=self.config.history_turns
        )
        if not path:
            raise InvalidInput("The turn this one follows is not part of this session.")
        return path

    async def retry(self, *, session: PracticeSession, turn_id: str) -> str:
        async with self.database.session() as db:
            turn = await repo.get_turn(db, turn_id=turn_id)
        if turn is None or turn.session_id != session.id:
            raise NotFound("That turn does not exist in this session.")
        if turn.id in self._runs:
            return turn.id
        if turn.reply_status == "complete":
            raise Conflict("This turn already has a reply.")
        if turn.reply_status in ("pending", "streaming"):
            if not self.abandoned(turn):
                return turn.id  # another replica is writing it: the caller follows it
            await remote.mark_interrupted(self.database, turn.id)
        if self.limits is not None:
            async with self.database.session() as db:
                await self.limits.check(db, user_id=session.user_id)
        self._start(session, turn, time.perf_counter())
        return turn.id

    def _start(
        self,
        session: PracticeSession,
        turn: Turn,
        started: float,
        *,
        run: TurnRun | None = None,
        path: list[Turn] | None = None,
        stored: asyncio.Future[None] | None = None,
    ) -> asyncio.Task[None] | None:
        """Run the reply; `run`, `path` and `stored` are given when the turn is being stored
        already claimed (`stored` is resolved once it is committed, and its `TurnStored`
        published)."""
        if run is None:
            if turn.id in self._runs:
                return None  # already running here (two retries at once): both follow the one
            run = TurnRun(turn.id)
            self._runs[turn.id] = run
        task = asyncio.create_task(
            self._run(run, session, turn, started, path, stored), name=f"turn-{turn.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def events(self, *, session: PracticeSession, turn_id: str) -> AsyncIterator[Event]:
        """Follow a live turn, or replay a finished one from the database."""
        run = self._runs.get(turn_id)
        if run is not None:
            async for event in run.subscribe():
                yield event
            return
        async with self.database.session() as db:
            turn = await repo.get_turn(db, turn_id=turn_id)
            if turn is None or turn.session_id != session.id:
                raise NotFound("That turn does not exist in this session.")
            critiques = await repo.critiques_for(db, turn_ids=[turn.id])
        events = stored_events(turn, critiques.get(turn.id), session.planned_minutes)
        if turn.reply_status in ("pending", "streaming"):
            # No run here: another replica may be writing it (followed through the database),
            # or the process that ran it stopped (then it is marked interrupted; words kept).
            yield events[0]
            followed = await self._follow_elsewhere(turn.id)
            if followed is None:
                raise NotFound("That turn does not exist in this session.")
            events = stored_events(*followed, session.planned_minutes)
        for event in events[1:] if turn.reply_status in ("pending", "streaming") else events:
            yield event

    def abandoned(self, turn: Turn) -> bool:
        """An unfinished turn that no process is writing (its process stopped)."""
        if turn.id in self._runs:
            return False
        return self._single_process or remote.is_stale(turn, stale_after=self._stale_after)

    async def _follow_elsewhere(self, turn_id: str) -> tuple[Turn, CritiqueRecord | None] | None:
        return await remote.settled(
            self.database,
            turn_id,
            abandoned=self.abandoned,
            critique_wait=self.config.turn_max_seconds,
        )

    # -- the run ----------------------------------------------------------------------------

    async def _state_for(self, session: PracticeSession, parent: Turn | None) -> ClientState:
        persona = self.persona(session.persona_id)
        if parent is None:
            return rules.initial_state(persona)
        live = self._runs.get(parent.id)
        if live is not None:
            # The state lags one turn: wait briefly for the parent's critique to be applied.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(live.finished), timeout=self.config.parent_state_wait
                )
            async with self.database.session() as db:
                refreshed = await repo.get_turn(db, turn_id=parent.id)
            parent = refreshed or parent
        for snapshot in (parent.state_after, parent.client_state):
            if snapshot is not None:
                return ClientState.model_validate(snapshot)
        return rules.initial_state(persona)

    async def _run(
        self,
        run: TurnRun,
        session: PracticeSession,
        turn: Turn,
        started: float,
        path: list[Turn] | None,
        stored: asyncio.Future[None] | None,
    ) -> None:
        try:
            await self._produce(run, session, turn, started, path, stored)
        except asyncio.CancelledError:
            await asyncio.shield(self._interrupted(run, turn, stored))
            raise
        except Exception:
            log.exception("turn run failed", extra={"turn_id": turn.id})
            metrics.ERRORS.labels(stage="run", kind="internal").inc()
            await asyncio.shield(self._interrupted(run, turn, stored))
        finally:
            self._runs.pop(turn.id, None)
            run.publish(Done(turn_id=turn.id))

    async def _interrupted(
        self, run: TurnRun, turn: Turn, stored: asyncio.Future[None] | None
    ) -> None:
        if stored is not None:
            # A run stopped before its turn's commit returned: record the failure once the
            # turn is there; a turn that was never stored leaves nothing to record.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(stored)
            if stored.cancelled():
                return
        with contextlib.suppress(Exception):
            async with self.database.session() as db:
                await repo.store_reply_failure(
                    db,
                    turn_id=turn.id,
                    kind="interrupted",
                    message=INTERRUPTED,
                    retryable=True,
                    client_state=None,
                )
        run.publish(
            TurnError(
                turn_id=turn.id,
                stage="reply",
                message=INTERRUPTED,
                retryable=True,
                kind="interrupted",
            )
        )

    async def _claim(self, session: PracticeSession, turn: Turn) -> tuple[bool, list[Turn]]:
        """Claim a stored turn's reply (a retry) and read the conversation it continues."""
        async with self.database.session() as db:
            claimed = await repo.claim_reply(db, turn_id=turn.id)
            if claimed is None:
                return False, []
            return True, await self._path(db, session, turn.parent_id)

    async def _produce(
        self,
        run: TurnRun,
        session: PracticeSession,
        turn: Turn,
        started: float,
        path: list[Turn] | None,
        stored: asyncio.Future[None] | None,
    ) -> None:
        persona = self.persona(session.persona_id)
        # A turn stored by `submit` has no critique yet; a retried one may have one to keep.
        retried, claimed = path is None, True
        if path is None:
            claimed, path = await self._claim(session, turn)
            run.publish(turn_stored(turn))
        if not claimed:
            # Another process won the claim (e.g. a retry on another replica): follow it.
            followed = await self._follow_elsewhere(turn.id)
            for earlier_event in (
                stored_events(*followed, session.planned_minutes)[1:-1] if followed else []
            ):
                run.publish(earlier_event)
            return
        parent = path[-1] if path else None
        state = await self._state_for(session, parent)
        history: list[tuple[str, str]] = []
        for earlier in path[-self.config.history_turns :]:
            history.append(("counsellor", earlier.trainee_text))
            if earlier.reply_text:
                history.append(("client", earlier.reply_text))
        shown = rules.visible_layers(state, persona)
        event = rules.due_event(state, persona, planned_minutes=session.planned_minutes)
        scene = ClientScene(
            persona=persona,
            state=state,
            visible_layers=shown,
            history=history,
            trainee_text=turn.trainee_text,
            planned_minutes=session.planned_minutes,
            due_event=event,
        )
        transcript = [("client", session.opening), *history]
        judge_input = JudgeInput(
            persona_summary=persona.summary,
            attachment_style=persona.style,
            transcript=transcript,
            client_last=transcript[-1][1] if transcript[-1][0] == "client" else "",
            trainee_text=turn.trainee_text,
            minutes_elapsed=state.minutes_elapsed,
            planned_minutes=session.planned_minutes,
            # The parent turn was written while a rupture was open, so it was a repair attempt;
            # the client's reply to it (client_last) shows whether it landed.
            previous_repair=bool(
                parent is not None
                and parent.reply_text
                and (parent.client_state or {}).get("rupture", "none") != "none"
            ),
        )
        critique_task: asyncio.Task[Critique | None] | None = None

        def start_critique() -> asyncio.Task[Critique | None]:
            return asyncio.create_task(self._critique(run, turn.id, judge_input, retried))

        request = client_request(
            self.prompts,
            scene,
            opening=session.opening,
            max_tokens=self.config.client_max_tokens,
            temperature=self.config.client_temperature,
        )

        def on_first_text() -> None:
            nonlocal critique_task
            critique_task = critique_task or start_critique()

        # The guard is built once the reply is under way, not before the model is called.
        watch = StreamWatch(
            lambda: CharacterGuard.for_request(
                persona=persona, visible_layers=shown, request=request
            ),
            holdback_words=self.config.guard_holdback_words,
        )
        next_state: ClientState = state
        try:
            reply, usage = await self._stream_reply(
                run, turn.id, request, started, on_first_text, watch, stored
            )
            kept = await keep_in_character(watch.guard, self.client_model, request, reply)
            if kept.outcome != "clean":
                log.info(
                    "client reply kept in character",
                    extra={"turn_id": turn.id, "outcome": kept.outcome, "slips": kept.slips},
                )
            reply = kept.text
            usage = Usage(
                input_tokens=usage.input_tokens + kept.usage.input_tokens,
                output_tokens=usage.output_tokens + kept.usage.output_tokens,
                cached_tokens=usage.cached_tokens + kept.usage.cached_tokens,
            )
        except LLMError as exc:
            metrics.ERRORS.labels(stage="reply", kind=exc.kind).inc()
            if stored is not None:
                await asyncio.shield(stored)
            async with self.database.session() as db:
                await repo.store_reply_failure(
                    db,
                    turn_id=turn.id,
                    kind=exc.kind,
                    message=exc.message,
                    retryable=exc.retryable,
                    client_state=state.model_dump(),
                )
            run.publish(
                TurnError(
                    turn_id=turn.id,
                    stage="reply",
                    message=exc.message,
                    retryable=exc.retryable,
                    kind=exc.kind,
                )
            )
        else:
            next_state = rules.after_reply(
                state,
                persona=persona,
                shown=shown,
                event=event,
                trainee_text=turn.trainee_text,
                reply_text=reply,
            )
            # A critique already in (usual for a short reply) has its state stored with the
            # reply: one transaction fewer after the stream.
            ready = _finished(critique_task)
            after = None
            if ready is not None:
                after = rules.apply_reading(next_state, rules.Reading.of(ready), persona)
            async with self.database.session() as db:
                await repo.store_reply(
                    db,
                    turn_id=turn.id,
                    text=reply,
                    client_state=state.model_dump(),
                    minutes_elapsed=next_state.minutes_elapsed,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cached_tokens=usage.cached_tokens,
                    state_after=after.model_dump() if after is not None else None,
                )
            run.publish(
                ReplyDone(
                    turn_id=turn.id,
                    text=reply,
                    minutes_elapsed=next_state.minutes_elapsed,
                    planned_minutes=session.planned_minutes,
                )
            )
            if ready is not None:
                return
        # The trainee's turn is critiqued even when the client never replied.
        critique = await (critique_task or start_critique())
        if critique is not None:
            after = rules.apply_reading(next_state, rules.Reading.of(critique), persona)
            async with self.database.session() as db:
                await repo.store_state_after(db, turn_id=turn.id, state=after.model_dump())

    async def _stream_reply(
        self,
        run: TurnRun,
        turn_id: str,
        request: ChatRequest,
        started: float,
        on_first_text: Callable[[], None],
        watch: StreamWatch,
        stored: asyncio.Future[None] | None,
    ) -> tuple[str, Usage]:
        """Relay the client's reply as it streams; stopped after `turn_max_seconds`.

        Text is relayed through the character guard's `watch`, `guard_holdback_words` complete
        words behind the model (by default each piece as it arrives); after a slip nothing more
        is relayed and the corrected reply follows as `reply`, replacing what was streamed.
        """
        # One growing string: a list of the pieces would hold an object per token (~50 bytes
        # each) for as long as the reply streams.
        text = ""
        usage = Usage()
        called = time.perf_counter()
        metrics.ACTIVE_STREAMS.inc()
        # Runs at the first pause, once the request is on its way: the guard's set-up then
        # overlaps the model's time to first token instead of adding to it.
        asyncio.get_running_loop().call_soon(watch.prepare)
        try:
            async with asyncio.timeout(self.config.turn_max_seconds):
                async for chunk in self.client_model.stream(request):
                    if chunk.text:
                        arrived, first = time.perf_counter(), not text
                        if first and stored is not None:
                            # Nothing is relayed before the turn is stored.
                            await asyncio.shield(stored)
                        text += chunk.text
                        relayed = watch.feed(chunk.text)
                        if relayed:
                            run.publish(Delta(turn_id=turn_id, text=relayed))
                        if first:
                            ours = (called - started) + (time.perf_counter() - arrived)
                            metrics.FIRST_TOKEN.labels(part="upstream").observe(arrived - called)
                            metrics.FIRST_TOKEN.labels(part="overhead").observe(ours)
                            on_first_text()
                    if chunk.usage is not None:
                        usage = chunk.usage
        except TimeoutError:
            raise LLMTimeout(
                f"The reply took longer than {self.config.turn_max_seconds:g} s and was "
                "stopped. Try again."
            ) from None
        finally:
            metrics.ACTIVE_STREAMS.dec()
        rest = watch.finish()
        if rest:
            run.publish(Delta(turn_id=turn_id, text=rest))
        reply = text.strip()
        if not reply:
            raise LLMBadResponse("The model sent an empty reply. Try again.")
        return reply, usage

    async def _critique(
        self, run: TurnRun, turn_id: str, judge_input: JudgeInput, retried: bool
    ) -> Critique | None:
        stored: dict[str, CritiqueRecord] = {}
        if retried:
            async with self.database.session() as db:
                stored = await repo.critiques_for(db, turn_ids=[turn_id])
        if turn_id in stored:
            # A retried reply keeps the critique its trainee turn already has.
            existing = Critique.model_validate(stored[turn_id].payload)
            run.publish(CritiqueReady(turn_id=turn_id, critique=existing.model_dump(mode="json")))
            return existing
        timer = time.perf_counter()
        try:
            assessment = await self.evaluator.assess(judge_input)
        except AllianceError as exc:
            metrics.ERRORS.labels(stage="critique", kind=exc.kind).inc()
            run.publish(
                TurnError(
                    turn_id=turn_id,
                    stage="critique",
                    message=exc.message,
                    retryable=False,
                    kind=exc.kind,
                )
            )
            return None
        metrics.CRITIQUE_LATENCY.observe(time.perf_counter() - timer)
        critique = assessment.critique
        if critique.source == "offline_fallback":
            metrics.ERRORS.labels(stage="critique", kind="offline_fallback").inc()
        payload: dict[str, Any] = critique.model_dump(mode="json")
        async with self.database.session() as db:
            await repo.store_critique(
                db,
                turn_id=turn_id,
                source=critique.source,
                judge=critique.judge,
                payload=payload,
                usage=assessment.usage,
            )
        run.publish(CritiqueReady(turn_id=turn_id, critique=payload))
        return critique

    async def drain(self, grace: float) -> None:
        """On shutdown: let running turns finish, then cancel what remains (it is marked failed)."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)


def _finished(task: asyncio.Task[Critique | None] | None) -> Critique | None:
    """The critique of a task that has already finished with one (never waits)."""
    if task is None or not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()


def turn_stored(turn: Turn) -> TurnStored:
    return TurnStored(
        turn_id=turn.id,
        session_id=turn.session_id,
        parent_id=turn.parent_id,
        trainee_text=turn.trainee_text,
        created_at=iso(turn),
    )


def stored_events(turn: Turn, critique: CritiqueRecord | None, planned_minutes: int) -> list[Event]:
    events: list[Event] = [turn_stored(turn)]
    if turn.reply_status == "complete" and turn.reply_text is not None:
        events.append(
            ReplyDone(
                turn_id=turn.id,
                text=turn.reply_text,
                minutes_elapsed=turn.minutes_elapsed,
                planned_minutes=planned_minutes,
            )
        )
    elif turn.reply_status == "failed":
        events.append(
            TurnError(
                turn_id=turn.id,
                stage="reply",
                message=turn.error_message or INTERRUPTED,
                retryable=bool(turn.error_retryable),
                kind=turn.error_kind or "interrupted",
            )
        )
    if critique is not None:
        events.append(CritiqueReady(turn_id=turn.id, critique=dict(critique.payload)))
    events.append(Done(turn_id=turn.id))
    return events
