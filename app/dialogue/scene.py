"""The scene a client reply is produced from: persona, state, what may be said, and the history.

The prompt renders from a scene; the offline scripted model reads the scene directly.
Hidden material never enters a scene: `visible_layers` holds only what the state unlocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.dialogue.state import ClientState
from app.personas import BoundaryEvent, DisclosureLayer, Persona


@dataclass(frozen=True, slots=True)
class ClientScene:
    persona: Persona
    state: ClientState
    visible_layers: list[DisclosureLayer]
    history: list[tuple[str, str]]  # (speaker, text): speaker is "counsellor" or "client"
    trainee_text: str
    planned_minutes: int
    due_event: BoundaryEvent | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def minutes_left(self) -> float:
        return max(0.0, self.planned_minutes - self.state.minutes_elapsed)
