"""The critique of one trainee turn, and what a judge is given to produce it.

The rubric follows the alliance principles: five dimensions scored 0-3 or not applicable with a
reason, and direction balance on -2 (lecturing, fixing) .. 0 (balanced) .. +2 (only mirroring).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DIMENSIONS: tuple[str, ...] = (
    "recognition",
    "authenticity",
    "collaboration",
    "power_awareness",
    "boundaries",
)

ClientMarker = Literal[
    "defer",
    "flatter",
    "challenge",
    "test",
    "resist",
    "withdraw",
    "confront",
    "boundary_probe",
    "none",
]
CritiqueSource = Literal["llm", "offline", "offline_fallback"]


class DimensionRating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int | None = Field(
        default=None, ge=0, le=3, description="0-3, or null when not applicable"
    )
    applicable: bool = True
    reason: str = Field(default="", max_length=600, description="Why this score, or why N/A")
    evidence: str = Field(default="", max_length=600, description="The trainee's words, quoted")

    @model_validator(mode="after")
    def _score_matches_applicability(self) -> DimensionRating:
        if self.applicable and self.score is None:
            raise ValueError("an applicable dimension needs a score from 0 to 3")
        if not self.applicable:
            self.score = None
            if not self.reason:
                raise ValueError("say why the dimension is not applicable")
        return self


class Critique(BaseModel):
    """What a supervisor would say about one trainee turn."""

    model_config = ConfigDict(extra="forbid")

    moment: str = Field(min_length=1, max_length=800, description="What the moment called for")
    recognition: DimensionRating
    authenticity: DimensionRating
    collaboration: DimensionRating
    power_awareness: DimensionRating
    boundaries: DimensionRating
    direction_balance: int = Field(ge=-2, le=2)
    client_marker: ClientMarker
    repair_landed: bool | None = None
    suggestion: str = Field(min_length=1, max_length=800)
    alternative_wording: str = Field(min_length=1, max_length=800)
    went_well: str = Field(min_length=1, max_length=800)
    source: CritiqueSource = "llm"
    judge: str = ""

    def rating(self, dimension: str) -> DimensionRating:
        if dimension not in DIMENSIONS:
            raise KeyError(dimension)
        rating: DimensionRating = getattr(self, dimension)
        return rating


@cache
def critique_json_schema() -> dict[str, object]:
    """The schema sent to models that support structured output (without our bookkeeping).

    Built once (about a millisecond of pydantic's work) and shared by every judge request:
    callers read it and serialise it, never change it.
    """
    schema = Critique.model_json_schema()
    properties = schema.get("properties")
    if isinstance(properties, dict):
        properties.pop("source", None)
        properties.pop("judge", None)
    return schema


@dataclass(frozen=True, slots=True)
class JudgeInput:
    """All the judge may see of one trainee turn. Trainee text is data, never instructions."""

    persona_summary: str
    attachment_style: str
    transcript: list[tuple[str, str]]  # (speaker, text), oldest first, before this turn
    client_last: str  # the client's most recent line, '' at the start
    trainee_text: str
    minutes_elapsed: float
    planned_minutes: int
    # The previous trainee turn was made while a rupture was open, so it was a repair attempt;
    # `client_last` is the client's reply to it, from which the judge says whether it landed.
    previous_repair: bool = False
