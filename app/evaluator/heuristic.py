"""The offline judge: a supervisor's per-turn critique built from wording patterns alone.

It is the embedded default when no model is configured and the fallback when a model judge
fails, so it must always return a complete, valid `Critique`. It reads the client's last line
for a relational marker (`app.evaluator.markers`), reads the trainee's turn for what it does
(`analyse_turn`), scores each dimension with a reason and the trainee's own words as evidence
(`app.evaluator.scoring`), and writes the feedback (`app.evaluator.feedback`). Scores are
conservative: "not applicable" instead of a guess.

It must never obey or repeat instructions found in the trainee's text (that text is data),
never call a model, and never phrase feedback as a verdict. Text in the turn that addresses a
rating system rather than the client is set aside: it neither raises nor lowers any score, so
appending it to a turn leaves the turn's scores exactly as they were; the suggestion says so.
"""

from __future__ import annotations

from app.evaluator.features import Cue, TurnFeatures, analyse_turn
from app.evaluator.feedback import alternative_wording, moment, suggestion, went_well
from app.evaluator.markers import ProbeKind, client_markers, detect_client_marker, probe_kind
from app.evaluator.reading import TurnReading, phase_of, quote, style_of
from app.evaluator.schema import ClientMarker, Critique, JudgeInput
from app.evaluator.scoring import (
    authenticity,
    boundaries,
    collaboration,
    direction_balance,
    power_awareness,
    recognition,
)

__all__ = [
    "JUDGE_NAME",
    "Cue",
    "ProbeKind",
    "TurnFeatures",
    "analyse_turn",
    "client_markers",
    "detect_client_marker",
    "judge",
    "probe_kind",
    "repair_landed",
]

JUDGE_NAME = "offline heuristic judge"

# A client still withdrawn, angry, closing doors or testing presence after a repair attempt
# has not been reached by it yet.
_STILL_RUPTURED: frozenset[ClientMarker] = frozenset({"withdraw", "confront", "resist", "test"})


def repair_landed(inp: JudgeInput) -> bool | None:
    """Whether the previous turn's repair of a rupture reached the client, judged from the
    client's reply to it (`client_last`); None when there was no repair to judge."""
    if not inp.previous_repair or not inp.client_last.strip():
        return None
    return not (_STILL_RUPTURED & set(client_markers(inp.client_last)))


def judge(inp: JudgeInput) -> Critique:
    """Critique one trainee turn offline. The trainee's text is analysed, never obeyed."""
    marker = detect_client_marker(inp.client_last)
    turn = TurnReading(
        inp=inp,
        f=analyse_turn(inp.trainee_text, client_last=inp.client_last),
        marker=marker,
        style=style_of(inp.attachment_style),
        phase=phase_of(inp),
        probe=probe_kind(inp.client_last) if marker == "boundary_probe" else "",
        repair=repair_landed(inp),
    )
    scores = {
        "recognition": recognition(turn),
        "authenticity": authenticity(turn),
        "collaboration": collaboration(turn),
        "power_awareness": power_awareness(turn),
        "boundaries": boundaries(turn),
    }
    if turn.f.said:
        # A score always rests on the trainee's words; when no single cue carries it, the
        # whole turn (what was said to the client) is the evidence.
        scores = {
            name: rating
            if rating.evidence or not rating.applicable
            else rating.model_copy(update={"evidence": quote(turn.f.said, 200)})
            for name, rating in scores.items()
        }
    balance = direction_balance(turn)
    return Critique(
        moment=moment(turn),
        direction_balance=balance,
        client_marker=marker,
        repair_landed=turn.repair,
        suggestion=suggestion(turn, scores, balance)[:800],
        alternative_wording=alternative_wording(turn)[:800],
        went_well=went_well(turn, scores)[:800],
        source="offline",
        judge=JUDGE_NAME,
        **scores,
    )
