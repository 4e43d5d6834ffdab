"""Client state: what the simulated client feels toward the counsellor, persisted per turn.

The state that produced each reply is stored with it so tutors can see it. Update rules live in
`app.dialogue.rules`; this module only defines the shape.
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
    events_fired: list[str] = Field(
        default_factory=list, description="Boundary events already used"
    )
