"""Build the session report from the stored path of turns. Pure: no I/O, no clock, no models.

The report follows the path that ends at the latest turn (a retried turn makes a branch; the
abandoned branch is not part of what the trainee finally did). Per turn it reads the stored
critique and the client state after that turn was taken in (`state_after`). Everything is
derived deterministically so that the same stored session always gives the same report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from pydantic import ValidationError

from app.dialogue import rules
from app.dialogue.engine import path_to
from app.dialogue.state import ClientState
from app.evaluator.schema import DIMENSIONS, Critique
from app.personas import Persona
from app.reports import observations
from app.reports.model import (
    BALANCE_LABELS,
    DIMENSION_LABELS,
    MIDPOINT,
    AllianceScore,
    BalanceDrift,
    ClientRating,
    DimensionSummary,
    RuptureEpisode,
    SessionReport,
    TurnPoint,
)
from app.storage import repo
from app.storage.tables import CritiqueRecord, PracticeSession, Turn


@dataclass(frozen=True, slots=True)
class PathView:
    """The stored material a report is built from: the path, its critiques, the persona."""

    session: PracticeSession
    persona: Persona
    path: list[Turn]
    critiques: dict[str, Critique]
    branched: bool

    @classmethod
    def of(
        cls,
        *,
        session: PracticeSession,
        persona: Persona,
        turns: Sequence[Turn],
        critiques: dict[str, CritiqueRecord],
    ) -> PathView:
        ordered = list(turns)
        path = path_to(ordered, ordered[-1].id if ordered else None)
        parsed: dict[str, Critique] = {}
        for turn in path:
            record = critiques.get(turn.id)
            if record is None:
                continue
            try:
                parsed[turn.id] = Critique.model_validate(record.payload)
            except ValidationError:
                # A critique stored under an older schema is shown as missing, not guessed at.
                continue
        return cls(
            session=session,
            persona=persona,
            path=path,
            critiques=parsed,
            branched=len(path) < len(ordered),
        )

    def final_state(self) -> ClientState:
        """The client's state after the last turn on the path was taken in."""
        for turn in reversed(self.path):
            for snapshot in (turn.state_after, turn.client_state):
                if snapshot is not None:
                    try:
                        return ClientState.model_validate(snapshot)
                    except ValidationError:
                        continue
        return rules.initial_state(self.persona)


def _rupture(snapshot: dict[str, object] | None) -> str | None:
    value = snapshot.get("rupture") if snapshot else None
    return value if value in ("none", "withdrawal", "confrontation") else None


def turn_points(view: PathView) -> list[TurnPoint]:
    points: list[TurnPoint] = []
    for number, turn in enumerate(view.path, start=1):
        critique = view.critiques.get(turn.id)
        scores: dict[str, int | None] = {
            name: (critique.rating(name).score if critique is not None else None)
            for name in DIMENSIONS
        }
        points.append(
            TurnPoint(
                number=number,
                turn_id=turn.id,
                trainee_text=turn.trainee_text,
                reply_text=turn.reply_text,
                reply_status=turn.reply_status,
                has_critique=critique is not None,
                critique_source=critique.source if critique is not None else None,
                scores=scores,
                direction_balance=critique.direction_balance if critique is not None else None,
                client_marker=critique.client_marker if critique is not None else None,
                repair_landed=critique.repair_landed if critique is not None else None,
                rupture_after=_rupture(turn.state_after),
            )
        )
    return points


def dimension_summaries(points: Sequence[TurnPoint]) -> list[DimensionSummary]:
    out: list[DimensionSummary] = []
    for name in DIMENSIONS:
        scored = [p.scores[name] for p in points if p.scores[name] is not None]
        out.append(
            DimensionSummary(
                dimension=name,
                label=DIMENSION_LABELS[name],
                mean=round(fmean(s for s in scored if s is not None), 2) if scored else None,
                scored_turns=len(scored),
                not_applicable_turns=sum(
                    1 for p in points if p.has_critique and p.scores[name] is None
                ),
            )
        )
    return out


def balance_as_score(balance: int) -> float:
    """Direction balance read as shared direction on 0-3: balanced 3, either trap pulls it down."""
    return 3.0 - 1.5 * abs(balance)


_FACETS: tuple[tuple[str, str, tuple[str, ...], bool, str], ...] = (
    (
        "bond",
        "Bond",
        ("recognition", "authenticity"),
        False,
        "recognition and authenticity ratings",
    ),
    (
        "task",
        "Task",
        ("collaboration", "power_awareness", "boundaries"),
        False,
        "collaboration, noticing-power and boundaries ratings",
    ),
    (
        "goal",
        "Goal",
        ("collaboration",),
        True,
        "collaboration ratings and direction balance (balanced 3, each step off balance −1.5)",
    ),
)


def alliance_scores(points: Sequence[TurnPoint]) -> list[AllianceScore]:
    """Bond, task and goal in the spirit of the Working Alliance Inventory, on the 0-3 scale.

    "No evidence" scores the midpoint (1.5) and says so, so that a short or one-sided session
    does not read as a strong alliance.
    """
    out: list[AllianceScore] = []
    for facet, label, dims, with_balance, basis in _FACETS:
        values: list[float] = [
            float(score) for p in points for name in dims if (score := p.scores[name]) is not None
        ]
        if with_balance:
            values += [
                balance_as_score(p.direction_balance)
                for p in points
                if p.direction_balance is not None
            ]
        out.append(
            AllianceScore(
                facet=facet,
                label=label,
                score=round(fmean(values), 2) if values else MIDPOINT,
                no_evidence=not values,
                evidence_count=len(values),
                basis=basis,
            )
        )
    return out


def ruptures(view: PathView, points: Sequence[TurnPoint]) -> list[RuptureEpisode]:
    """Turns after which the client's rupture became non-none, and what the trainee did next."""
    episodes: list[RuptureEpisode] = []
    before = "none"
    for index, (turn, point) in enumerate(zip(view.path, points, strict=True)):
        entering = _rupture(turn.client_state) or before
        after = point.rupture_after or entering
        if entering == "none" and after != "none":
            nxt = points[index + 1] if index + 1 < len(points) else None
            # Whether a repair landed is read from the client's reply to it, so the judge says
            # so in the critique of the turn after the attempt.
            verdict = points[index + 2] if index + 2 < len(points) else None
            nxt_critique = view.critiques.get(nxt.turn_id) if nxt is not None else None
            repaired_at = next(
                (p.number for p in points[index + 1 :] if p.rupture_after == "none"), None
            )
            episodes.append(
                RuptureEpisode(
                    opened_at=point.number,
                    kind=after,
                    met_at=nxt.number if nxt is not None else None,
                    met_with=nxt.trainee_text if nxt is not None else None,
                    met_balance=nxt.direction_balance if nxt is not None else None,
                    met_recognition=nxt.scores["recognition"] if nxt is not None else None,
                    met_authenticity=nxt.scores["authenticity"] if nxt is not None else None,
                    judge_repair_landed=verdict.repair_landed if verdict is not None else None,
                    repaired_at=repaired_at,
                    outcome=(
                        "repaired"
                        if repaired_at is not None
                        else ("open" if nxt is not None else "not yet met")
                    ),
                    suggestion=(
                        nxt_critique.alternative_wording if nxt_critique is not None else None
                    ),
                )
            )
        before = after
    return episodes


def _mean(values: Sequence[int]) -> float | None:
    return round(fmean(values), 2) if values else None


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace("-", "−")


def balance_drift(points: Sequence[TurnPoint]) -> BalanceDrift:
    values = [p.direction_balance for p in points]
    half = len(values) // 2
    first = [v for v in values[:half] if v is not None]
    second = [v for v in values[half:] if v is not None]
    known = [v for v in values if v is not None]
    first_mean, second_mean = _mean(first), _mean(second)
    drift = (
        round(second_mean - first_mean, 2)
        if first_mean is not None and second_mean is not None
        else None
    )
    if not known:
        summary = "No direction readings yet."
    else:
        overall = fmean(known)
        where = BALANCE_LABELS[max(-2, min(2, round(overall)))]
        summary = f"On average {where} ({_signed(overall)} on −2 directing … +2 mirroring)"
        if drift is None:
            summary += "."
        elif drift >= 0.5:
            summary += f"; it moved towards mirroring as the session went on ({_signed(drift)})."
        elif drift <= -0.5:
            summary += f"; it moved towards directing as the session went on ({_signed(drift)})."
        else:
            summary += f"; it held steady across the session ({_signed(drift)})."
    return BalanceDrift(
        values=values,
        first_half_mean=first_mean,
        second_half_mean=second_mean,
        drift=drift,
        summary=summary,
    )


def build_report(
    view: PathView, *, client_rating: ClientRating, generated_at: datetime
) -> SessionReport:
    points = turn_points(view)
    episodes = ruptures(view, points)
    strengths, edges = observations.pick(points, view.critiques, view.path, episodes)
    session = view.session
    elapsed = max((t.minutes_elapsed for t in view.path), default=0.0)
    return SessionReport(
        session_id=session.id,
        status=session.status,
        created_at=repo.aware(session.created_at),
        ended_at=repo.aware(session.ended_at) if session.ended_at else None,
        generated_at=generated_at,
        persona_id=view.persona.id,
        persona_name=view.persona.name,
        attachment_style=view.persona.style,
        planned_minutes=session.planned_minutes,
        minutes_elapsed=elapsed,
        client_label=session.client_label,
        evaluator_label=session.evaluator_label,
        opening=session.opening,
        branched=view.branched,
        turns=points,
        dimensions=dimension_summaries(points),
        alliance=alliance_scores(points),
        ruptures=episodes,
        balance=balance_drift(points),
        strengths=strengths,
        growth_edges=edges,
        client_rating=client_rating,
    )
