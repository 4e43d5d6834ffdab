"""Load what a report needs from storage and build it. The caller has already checked that the
principal may read the session; this module only reads (one short transaction)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.dialogue.engine import TurnEngine
from app.reports.builder import PathView, build_report
from app.reports.client_voice import ClientVoice
from app.reports.model import SessionReport
from app.storage import repo
from app.storage.db import Database
from app.storage.tables import PracticeSession


class ReportService:
    def __init__(self, *, database: Database, engine: TurnEngine, voice: ClientVoice) -> None:
        self.database = database
        self.engine = engine
        self.voice = voice

    async def view(self, session: PracticeSession) -> PathView:
        persona = self.engine.persona(session.persona_id)
        async with self.database.session() as db:
            turns = await repo.list_turns(db, session_id=session.id)
            critiques = await repo.critiques_for(db, turn_ids=[t.id for t in turns])
        return PathView.of(session=session, persona=persona, turns=turns, critiques=critiques)

    async def report(self, session: PracticeSession) -> SessionReport:
        view = await self.view(session)
        exchanges: list[tuple[str, str]] = [("client", session.opening)]
        for turn in view.path:
            exchanges.append(("counsellor", turn.trainee_text))
            if turn.reply_text:
                exchanges.append(("client", turn.reply_text))
        rating = await self.voice.rate(
            persona=view.persona,
            state=view.final_state(),
            exchanges=exchanges,
            ended=session.status == "ended",
            key=(session.id, view.path[-1].id if view.path else ""),
        )
        return build_report(view, client_rating=rating, generated_at=datetime.now(UTC))
