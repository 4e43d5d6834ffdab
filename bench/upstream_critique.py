"""The one trainee turn every benchmark stream sends, and the critique a judge would give it.

The critique is the offline judge's, made from the same words, so the service's checks (the
evidence must quote the trainee) accept it as a model's answer when the fake upstream returns it.
"""

from __future__ import annotations

from app.evaluator import heuristic
from app.evaluator.schema import Critique, JudgeInput

TRAINEE_TEXT = (
    "It sounds like this week asked a lot of you. What feels most important to start with?"
)


def bench_critique() -> Critique:
    return heuristic.judge(
        JudgeInput(
            persona_summary="A client in their first session.",
            attachment_style="secure",
            transcript=[("client", "I wasn't sure I should come today.")],
            client_last="I wasn't sure I should come today.",
            trainee_text=TRAINEE_TEXT,
            minutes_elapsed=1.0,
            planned_minutes=50,
        )
    )
