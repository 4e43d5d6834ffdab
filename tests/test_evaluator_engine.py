"""The turn engine tells the judge when the previous turn was a repair attempt, so the critique
can say whether it landed once the client's reply to it exists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.evaluator import heuristic
from app.evaluator.schema import JudgeInput
from app.llm.base import ChatRequest, JsonCompletion
from app.storage.tables import Turn
from tests.doubles import FunctionModel


async def test_the_judge_is_told_when_the_previous_turn_tried_a_repair(make_harness: Any) -> None:
    seen: dict[str, JudgeInput] = {}

    async def judge(request: ChatRequest) -> JsonCompletion:
        assert isinstance(request.scene, JudgeInput)
        seen[request.scene.trainee_text] = request.scene
        return JsonCompletion(text=heuristic.judge(request.scene).model_dump_json())

    # Distant turns open a withdrawal rupture with an anxious client; the turn made while it is
    # open is a repair attempt, and the turn after it is critiqued knowing that.
    texts = ["Mm.", "Okay.", "Right.", "Sure.", "Hm.", "I notice you've gone quiet."]
    texts.append("Thank you for telling me.")
    async with make_harness(
        evaluator_model=FunctionModel(complete_json=judge, label="judge double")
    ) as h:
        await h.sign_in()
        persona = next(p.id for p in h.services.personas.values() if p.style == "anxious")
        session = await h.start(persona)
        parent: str | None = None
        for text in texts:
            events = await h.turn(session["id"], text, parent_id=parent)
            parent = events[0][1]["turn_id"]
            critique = next(data for name, data in events if name == "critique")["critique"]
            assert critique["source"] == "llm"
        async with h.services.database.session() as db:
            turns = list(
                (await db.execute(select(Turn).where(Turn.session_id == session["id"])))
                .scalars()
                .all()
            )
    by_id = {t.id: t for t in turns}
    repairs = 0
    for turn in turns:
        expected = False
        parent_turn = by_id.get(turn.parent_id or "")
        if parent_turn is not None and parent_turn.reply_text:
            expected = (parent_turn.client_state or {}).get("rupture", "none") != "none"
        assert seen[turn.trainee_text].previous_repair is expected, turn.trainee_text
        repairs += expected
    assert repairs >= 1, "the distant turns should have opened a rupture"
