"""The session report as data: one pydantic model that is also the JSON export (schema v1).

Scores are on the rubric's 0-3 scale; direction balance on -2 (directing) .. +2 (mirroring).
A value that could not be observed is `None`, never a guess, except in the bond / task / goal
summary, where "no evidence" is scored as the midpoint and flagged as such.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

REPORT_SCHEMA: Literal["alliance.session-report"] = "alliance.session-report"
REPORT_VERSION: Literal[1] = 1
MIDPOINT = 1.5

DIMENSION_LABELS: dict[str, str] = {
    "recognition": "Recognition",
    "authenticity": "Authenticity",
    "collaboration": "Collaboration",
    "power_awareness": "Noticing power",
    "boundaries": "Boundaries",
}
BALANCE_LABELS: dict[int, str] = {
    -2: "directing / fixing",
    -1: "leaning towards directing",
    0: "balanced",
    1: "leaning towards mirroring",
    2: "only mirroring",
}


def signed(value: int) -> str:
    """−2, −1, 0, +1, +2: a true minus sign, and no sign on zero."""
    return "0" if value == 0 else f"{value:+d}".replace("-", "−")


ReplyStatus = Literal["pending", "streaming", "complete", "failed"]
AllianceFacet = Literal["bond", "task", "goal"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TurnPoint(_Frozen):
    """One trainee turn on the path, as the report sees it."""

    number: int = Field(ge=1, description="1 for the first trainee turn on the path")
    turn_id: str
    trainee_text: str
    reply_text: str | None
    reply_status: ReplyStatus
    has_critique: bool
    critique_source: str | None
    scores: dict[str, int | None] = Field(
        description="Dimension -> 0-3, or null when not applicable or not critiqued"
    )
    direction_balance: int | None = Field(ge=-2, le=2)
    client_marker: str | None
    repair_landed: bool | None
    rupture_after: Literal["none", "withdrawal", "confrontation"] | None = Field(
        description="The client's rupture state once this turn was taken in (null if unknown)"
    )


class DimensionSummary(_Frozen):
    dimension: str
    label: str
    mean: float | None = Field(description="Mean of the scored turns; null with no evidence")
    scored_turns: int
    not_applicable_turns: int


class RuptureEpisode(_Frozen):
    """A turn after which the client's rupture became non-none, and how it was met."""

    opened_at: int = Field(description="The turn whose conduct opened the rupture")
    kind: Literal["withdrawal", "confrontation"]
    met_at: int | None = Field(description="The next trainee turn on the path, if any")
    met_with: str | None = Field(description="That turn's words")
    met_balance: int | None
    met_recognition: int | None
    met_authenticity: int | None
    judge_repair_landed: bool | None = Field(
        description="Whether the repair landed, as the judge read the client's reply to it "
        "(given in the critique of the turn after the attempt)"
    )
    repaired_at: int | None = Field(description="The turn after which the rupture closed")
    outcome: Literal["repaired", "open", "not yet met"]
    suggestion: str | None = Field(description="The judge's alternative wording for the reply")


class AllianceScore(_Frozen):
    facet: AllianceFacet
    label: str
    score: float = Field(ge=0, le=3)
    no_evidence: bool = Field(description="True when scored as the midpoint for lack of evidence")
    evidence_count: int
    basis: str = Field(description="Which ratings this facet is derived from")


class BalanceDrift(_Frozen):
    values: list[int | None] = Field(description="Direction balance per turn, null if unknown")
    first_half_mean: float | None
    second_half_mean: float | None
    drift: float | None = Field(description="Second half minus first half")
    summary: str


class Observation(_Frozen):
    """A strength or a growth edge, with the turns that show it and the trainee's words."""

    key: str
    title: str
    detail: str
    turns: list[int]
    quote: str = Field(description="The trainee's own words from the clearest turn")
    quote_turn: int
    suggestion: str | None = None


class ClientRating(_Frozen):
    """The simulated client's own short rating of the alliance, in the first person."""

    score: int = Field(ge=1, le=7, description="1 (not at all) .. 7 (completely) felt with")
    text: str
    source: Literal["persona", "model", "persona_fallback"]


class SessionReport(_Frozen):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"$id": "https://alliance.invalid/schemas/session-report-v1.json"},
    )

    schema_id: Literal["alliance.session-report"] = Field(default=REPORT_SCHEMA, alias="schema")
    version: Literal[1] = REPORT_VERSION
    session_id: str
    status: str
    created_at: datetime
    ended_at: datetime | None
    generated_at: datetime
    persona_id: str
    persona_name: str
    attachment_style: str
    planned_minutes: int
    minutes_elapsed: float
    client_label: str
    evaluator_label: str
    opening: str
    branched: bool = Field(description="True when other branches exist beside the path shown")
    turns: list[TurnPoint]
    dimensions: list[DimensionSummary]
    alliance: list[AllianceScore]
    ruptures: list[RuptureEpisode]
    balance: BalanceDrift
    strengths: list[Observation]
    growth_edges: list[Observation]
    client_rating: ClientRating

    def export(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of the export, as published at `/api/reports/schema.json`."""
    return SessionReport.model_json_schema(by_alias=True, mode="serialization")
