"""Client state: what the simulated client feels toward the counsellor, persisted per turn.

The state that produced each reply is stored with it so tutors can see it. Update rules live in
`app.dialogue.rules`; this module only defines the shape. Every field has a default except trust,
so snapshots stored before a field existed still load.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Rupture = Literal["none", "withdrawal", "confrontation"]
Stance = Literal["deferring", "challenging", "collaborative", "withdrawn"]


class ClientState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trust: int = Field(ge=0, le=100)
    activation: int = Field(default=30, ge=0, le=100, description="Attachment system activation")
    rupture: Rupture = "none"
    stance: Stance = "collaborative"
    disclosed: list[str] = Field(
        default_factory=list, description="Disclosure layer ids said aloud"
    )
    minutes_elapsed: float = Field(default=0.0, ge=0)
    turn_index: int = Field(default=0, ge=0, description="Trainee turns so far on this path")
    distant_streak: int = Field(default=0, ge=0, description="Consecutive distant or neutral turns")
    directive_streak: int = Field(
        default=0, ge=0, description="Consecutive directing turns (advice, pushing, interpreting)"
    )
    attuned_streak: int = Field(default=0, ge=0, description="Consecutive attuned turns")
    trust_before_slide: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Trust before the current run of missed turns; a repair restores it",
    )
    just_disclosed: list[str] = Field(
        default_factory=list,
        description="Deeper or core layers said aloud for the first time in the latest reply",
    )
    events_fired: list[str] = Field(
        default_factory=list, description="Boundary events already used"
    )
