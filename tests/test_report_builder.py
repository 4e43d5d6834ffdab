"""The report builder on a stored path of turns, with known critiques and client states.

No database here: turns and sessions are built as table rows in memory, so every figure in
the report can be worked out by hand and asserted exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.dialogue.state import ClientState
from app.evaluator.schema import DIMENSIONS
from app.personas import load_personas
from app.reports.builder import PathView, alliance_scores, balance_drift, build_report
from app.reports.client_voice import alliance_score, persona_rating
from app.reports.model import ClientRating
from app.settings import PROJECT_ROOT
from app.storage.tables import CritiqueRecord, PracticeSession, Turn

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSONAS = load_personas(PROJECT_ROOT / "personas")


# The report is checked against two personas of the library, named so that adding personas
# does not change which one a test uses.
BY_STYLE = {"anxious": "farid-anxious", "avoidant": "ines-avoidant"}


def persona_of_style(style: str) -> Any:
    return PERSONAS[BY_STYLE[style]]


def critique_payload(
    scores: dict[str, int | None],
    balance: int,
    *,
    evidence: dict[str, str] | None = None,
    repair: bool | None = None,
    marker: str = "none",
    alternative: str = "Could we look at how this is going for you?",
) -> dict[str, Any]:
    """A valid critique: `scores` maps each dimension to 0-3, or None for not applicable."""
    payload: dict[str, Any] = {
        "moment": "The client had just described a hard week.",
        "direction_balance": balance,
        "client_marker": marker,
        "repair_landed": repair,
        "suggestion": "Reflect the feeling before moving on.",
        "alternative_wording": alternative,
        "went_well": "You stayed with the client.",
        "source": "llm",
        "judge": "judge double",
    }
    for name in DIMENSIONS:
        score = scores.get(name)
        payload[name] = (
            {"score": score, "applicable": True, "reason": f"{name} reason", "evidence": ""}
            if score is not None
            else {"score": None, "applicable": False, "reason": "no marker in the last line"}
        )
        if evidence and name in evidence:
            payload[name]["evidence"] = evidence[name]
    return payload


def state(trust: int, rupture: str = "none", **extra: Any) -> dict[str, Any]:
    return ClientState(trust=trust, rupture=rupture, **extra).model_dump()


def make_session(**overrides: Any) -> PracticeSession:
    fields: dict[str, Any] = {
        "id": "s" * 32,
        "user_id": "u" * 32,
        "persona_id": persona_of_style("anxious").id,
        "persona_version": 1,
        "planned_minutes": 50,
        "opening": "Sorry, I'm a bit early.",
        "client_label": "client double",
        "evaluator_label": "judge double",
        "status": "ended",
        "created_at": START,
        "ended_at": START + timedelta(minutes=20),
    }
    fields.update(overrides)
    return PracticeSession(**fields)


class PathMaker:
    """Builds a path turn by turn; each turn follows the one before unless told otherwise."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.critiques: dict[str, CritiqueRecord] = {}

    def add(
        self,
        text: str,
        *,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        critique: dict[str, Any] | None,
        parent: str | bool | None = True,
        status: str = "complete",
    ) -> str:
        turn_id = f"t{len(self.turns) + 1:031d}"
        parent_id = (
            (self.turns[-1].id if self.turns else None) if parent is True else parent or None
        )
        self.turns.append(
            Turn(
                id=turn_id,
                session_id="s" * 32,
                parent_id=parent_id,
                idempotency_key=f"key-{turn_id}",
                trainee_text=text,
                created_at=START + timedelta(minutes=len(self.turns) + 1),
                reply_status=status,
                reply_text=f"reply to {text}" if status == "complete" else None,
                client_state=before,
                state_after=after,
                minutes_elapsed=2.0 * (len(self.turns) + 1),
            )
        )
        if critique is not None:
            self.critiques[turn_id] = CritiqueRecord(
                turn_id=turn_id, source="llm", judge="judge double", payload=critique
            )
        return turn_id

    def view(self, **session: Any) -> PathView:
        return PathView.of(
            session=make_session(**session),
            persona=persona_of_style("anxious"),
            turns=self.turns,
            critiques=self.critiques,
        )


RATING = ClientRating(score=4, text="It was all right.", source="persona")
DISTANT = {"recognition": 1, "authenticity": 1, "collaboration": 1}
ATTUNED = {"recognition": 3, "authenticity": 3, "collaboration": 2, "power_awareness": 2}
DIRECTIVE = {"recognition": 1, "authenticity": 2, "collaboration": 0, "boundaries": 2}


def five_turns() -> PathMaker:
    """Three distant turns open a withdrawal; an attuned turn repairs it; then advice."""
    m = PathMaker()
    m.add("Mm. Go on.", before=state(40), after=state(32), critique=critique_payload(DISTANT, 1))
    m.add("I see.", before=state(32), after=state(24), critique=critique_payload(DISTANT, 1))
    m.add(
        "Okay. And then?",
        before=state(24),
        after=state(16, "withdrawal"),
        critique=critique_payload(DISTANT, 1),
    )
    m.add(
        "I think I lost you just now, and I'm sorry. I'm here and I want to hear it.",
        before=state(16, "withdrawal"),
        after=state(30),
        critique=critique_payload(
            ATTUNED,
            0,
            marker="withdraw",
            evidence={
                "recognition": "I'm here and I want to hear it",
                "authenticity": "paraphrase",
            },
        ),
    )
    m.add(
        "You should stop checking his phone at night. We have ten minutes left.",
        before=state(30),
        after=state(28),
        critique=critique_payload(
            DIRECTIVE,
            -2,
            repair=True,
            evidence={"collaboration": "You should stop checking his phone at night."},
            alternative="Would it help to look at the nights together?",
        ),
    )
    return m


def test_trajectory_alliance_and_drift_from_known_critiques() -> None:
    report = build_report(five_turns().view(), client_rating=RATING, generated_at=START)
    assert [p.number for p in report.turns] == [1, 2, 3, 4, 5]
    series = {name: [p.scores[name] for p in report.turns] for name in DIMENSIONS}
    assert series == {
        "recognition": [1, 1, 1, 3, 1],
        "authenticity": [1, 1, 1, 3, 2],
        "collaboration": [1, 1, 1, 2, 0],
        "power_awareness": [None, None, None, 2, None],
        "boundaries": [None, None, None, None, 2],
    }
    means = {
        d.dimension: (d.mean, d.scored_turns, d.not_applicable_turns) for d in report.dimensions
    }
    assert means == {
        "recognition": (1.4, 5, 0),
        "authenticity": (1.6, 5, 0),
        "collaboration": (1.0, 5, 0),
        "power_awareness": (2.0, 1, 4),
        "boundaries": (2.0, 1, 4),
    }
    # Bond: (7 + 8) / 10. Task: (5 + 2 + 2) / 7. Goal: collaboration 5 plus direction read as
    # 1.5, 1.5, 1.5, 3, 0 (7.5), over 10 values.
    alliance = {a.facet: (a.score, a.no_evidence, a.evidence_count) for a in report.alliance}
    assert alliance == {
        "bond": (1.5, False, 10),
        "task": (1.29, False, 7),
        "goal": (1.25, False, 10),
    }
    assert report.balance.values == [1, 1, 1, 0, -2]
    assert report.balance.first_half_mean == 1.0
    assert report.balance.second_half_mean == -0.33
    assert report.balance.drift == -1.33
    assert "moved towards directing" in report.balance.summary
    assert report.minutes_elapsed == 10.0
    assert report.branched is False


def test_rupture_is_found_in_the_states_and_its_repair_followed() -> None:
    report = build_report(five_turns().view(), client_rating=RATING, generated_at=START)
    assert [p.rupture_after for p in report.turns] == [
        "none",
        "none",
        "withdrawal",
        "none",
        "none",
    ]
    (episode,) = report.ruptures
    assert episode.opened_at == 3
    assert episode.kind == "withdrawal"
    assert episode.met_at == 4
    assert episode.met_with is not None
    assert episode.met_with.startswith("I think I lost you")
    assert (episode.met_recognition, episode.met_authenticity, episode.met_balance) == (3, 3, 0)
    assert episode.judge_repair_landed is True
    assert episode.repaired_at == 4
    assert episode.outcome == "repaired"


def test_strengths_and_growth_edges_name_turns_and_quote_the_trainee() -> None:
    report = build_report(five_turns().view(), client_rating=RATING, generated_at=START)
    strengths = [(o.key, o.turns, o.quote_turn, o.quote) for o in report.strengths]
    assert strengths == [
        (
            "repair",
            [4],
            4,
            "I think I lost you just now, and I'm sorry. I'm here and I want to hear it.",
        ),
        (
            "power_awareness",
            [4],
            4,
            "I think I lost you just now, and I'm sorry. I'm here and I want to hear it.",
        ),
        (
            "boundaries",
            [5],
            5,
            "You should stop checking his phone at night. We have ten minutes left.",
        ),
    ]
    edges = [(o.key, o.turns, o.quote_turn, o.quote, o.suggestion) for o in report.growth_edges]
    assert edges == [
        (
            "collaboration",
            [1, 2, 3, 5],
            5,
            # The judge's evidence quotes the trainee, so it is used as the quote.
            "You should stop checking his phone at night.",
            "Would it help to look at the nights together?",
        ),
        (
            "recognition",
            [1, 2, 3, 5],
            1,
            "Mm. Go on.",
            "Could we look at how this is going for you?",
        ),
    ]
    assert "At turn 5: collaboration reason" in report.growth_edges[0].detail


def test_evidence_that_does_not_quote_the_trainee_is_not_shown_as_their_words() -> None:
    m = PathMaker()
    m.add(
        "It sounds like you carried that alone.",
        before=state(40),
        after=state(48),
        critique=critique_payload(
            {"recognition": 3, "authenticity": 2}, 0, evidence={"recognition": "a paraphrase"}
        ),
    )
    report = build_report(m.view(), client_rating=RATING, generated_at=START)
    recognition = next(o for o in report.strengths if o.key == "recognition")
    assert recognition.quote == "It sounds like you carried that alone."


def test_no_evidence_scores_the_midpoint_and_says_so() -> None:
    m = PathMaker()
    m.add("Hello.", before=state(40), after=None, critique=None, status="failed")
    report = build_report(m.view(), client_rating=RATING, generated_at=START)
    assert [(a.score, a.no_evidence, a.evidence_count) for a in report.alliance] == [
        (1.5, True, 0)
    ] * 3
    assert alliance_scores([]) == alliance_scores(report.turns)
    point = report.turns[0]
    assert point.has_critique is False
    assert point.reply_status == "failed"
    assert set(point.scores.values()) == {None}
    assert point.direction_balance is None
    assert report.strengths == []
    assert report.growth_edges == []
    assert report.balance.summary == "No direction readings yet."


def test_a_turn_without_critique_is_a_gap_and_the_state_carries_over() -> None:
    m = PathMaker()
    m.add("One.", before=state(40), after=state(30), critique=critique_payload(DISTANT, 1))
    m.add("Two.", before=state(30), after=None, critique=None, status="failed")
    m.add(
        "Three.",
        before=state(30),
        after=state(20, "withdrawal"),
        critique=critique_payload(DISTANT, 2),
    )
    report = build_report(m.view(), client_rating=RATING, generated_at=START)
    assert [p.scores["recognition"] for p in report.turns] == [1, None, 1]
    assert [p.rupture_after for p in report.turns] == ["none", None, "withdrawal"]
    (episode,) = report.ruptures
    assert (episode.opened_at, episode.met_at, episode.outcome) == (3, None, "not yet met")
    assert report.balance.values == [1, None, 2]
    # Halves: [1] and [None, 2].
    assert (report.balance.first_half_mean, report.balance.second_half_mean) == (1.0, 2.0)


def test_an_unrepaired_rupture_is_open_and_offers_the_alternative() -> None:
    m = PathMaker()
    m.add(
        "A.",
        before=state(40),
        after=state(20, "confrontation"),
        critique=critique_payload(DISTANT, -2),
    )
    m.add(
        "B.",
        before=state(20, "confrontation"),
        after=state(15, "confrontation"),
        critique=critique_payload(DISTANT, -1, alternative="I got that wrong."),
    )
    report = build_report(m.view(), client_rating=RATING, generated_at=START)
    (episode,) = report.ruptures
    assert episode.kind == "confrontation"
    assert (episode.met_at, episode.repaired_at, episode.outcome) == (2, None, "open")
    # No turn after the attempt yet, so no verdict on it.
    assert episode.judge_repair_landed is None
    # The critique of the next turn says, from the client's reply, that it did not land.
    m.add(
        "C.",
        before=state(15, "confrontation"),
        after=state(12, "confrontation"),
        critique=critique_payload(DISTANT, -1, repair=False),
    )
    (episode,) = build_report(m.view(), client_rating=RATING, generated_at=START).ruptures
    assert episode.judge_repair_landed is False
    assert episode.suggestion == "I got that wrong."


def test_the_report_follows_the_path_to_the_latest_turn() -> None:
    m = PathMaker()
    first = m.add(
        "First.", before=state(40), after=state(45), critique=critique_payload(ATTUNED, 0)
    )
    m.add(
        "Abandoned try.", before=state(45), after=state(40), critique=critique_payload(DISTANT, 2)
    )
    m.add(
        "Second try.",
        before=state(45),
        after=state(50),
        critique=critique_payload(ATTUNED, 0),
        parent=first,
    )
    view = m.view()
    assert view.branched is True
    report = build_report(view, client_rating=RATING, generated_at=START)
    assert [p.trainee_text for p in report.turns] == ["First.", "Second try."]
    assert report.balance.values == [0, 0]
    assert view.final_state().trust == 50


def test_a_critique_stored_under_another_schema_is_treated_as_missing() -> None:
    m = PathMaker()
    m.add("Hello.", before=state(40), after=state(40), critique={"moment": "old format"})
    report = build_report(m.view(), client_rating=RATING, generated_at=START)
    assert report.turns[0].has_critique is False


@pytest.mark.parametrize(
    ("values", "drift", "phrase"),
    [
        ([0, 0, 0, 0], 0.0, "held steady"),
        ([-2, -1, 1, 2], 3.0, "moved towards mirroring"),
        ([2], None, "only mirroring (+2.0 on"),
        ([], None, "No direction readings yet."),
    ],
)
def test_balance_drift(values: list[int], drift: float | None, phrase: str) -> None:
    from app.reports.model import TurnPoint

    points = [
        TurnPoint(
            number=i + 1,
            turn_id=str(i),
            trainee_text="x",
            reply_text=None,
            reply_status="complete",
            has_critique=True,
            critique_source="llm",
            scores=dict.fromkeys(DIMENSIONS),
            direction_balance=v,
            client_marker="none",
            repair_landed=None,
            rupture_after="none",
        )
        for i, v in enumerate(values)
    ]
    result = balance_drift(points)
    assert result.drift == drift
    assert phrase in result.summary


def test_the_client_rating_speaks_from_the_final_state_in_the_persona_voice() -> None:
    anxious = persona_of_style("anxious")
    low = persona_rating(anxious, ClientState(trust=20, rupture="withdrawal"), turns=3)
    high = persona_rating(
        anxious,
        ClientState(trust=80, disclosed=[layer.id for layer in anxious.disclosure_layers]),
        turns=6,
    )
    assert low.source == high.source == "persona"
    assert (low.score, high.score) == (1, 6)
    assert low.text.startswith(anxious.speech.idioms[0][:1].upper() + anxious.speech.idioms[0][1:])
    assert "gone quiet on you" in low.text
    assert "haven't told anyone" in high.text
    # Nothing of a hidden layer's content is quoted.
    assert all(layer.content not in high.text for layer in anxious.disclosure_layers)
    avoidant = persona_of_style("avoidant")
    other = persona_rating(avoidant, ClientState(trust=80), turns=6)
    assert other.text != high.text
    assert persona_rating(anxious, ClientState(trust=50), turns=0).text.endswith(
        "We'd hardly started, so I can't really say yet."
    )
    assert alliance_score(ClientState(trust=100)) == 7
    assert alliance_score(ClientState(trust=0, rupture="confrontation")) == 1


def test_model_rating_text_is_kept_plain_short_and_in_character() -> None:
    from app.reports.client_voice import MAX_MODEL_CHARS, usable

    assert usable('  "It was\n\n  fine,   really."  ') == "It was fine, really."
    assert usable("As an AI language model, I cannot rate this.") is None
    assert usable("   ") is None
    long = usable("word " * 400)
    assert long is not None
    assert len(long) <= MAX_MODEL_CHARS + 1
    assert long.endswith("word…")
