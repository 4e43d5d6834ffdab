"""Client-state rules: how the trainee's conduct, as the evaluator read it, moves the client.

The rules differ by attachment style (see ../shared clinical brief, summarised in
docs/architecture.md): an anxious client loses trust under distance and withdraws; an avoidant
client closes down when pushed for feelings; a disorganised client can pull back after a good
moment; a secure client repairs readily. They are pure functions: no I/O, no randomness.

The state lags one turn by design: the critique of turn N shapes the client at turn N+1.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.dialogue.state import ClientState, Stance
from app.evaluator.schema import Critique
from app.personas import AttachmentStyle, BoundaryEvent, DisclosureLayer, Persona

_START: dict[AttachmentStyle, tuple[int, Stance]] = {
    "secure": (20, "collaborative"),
    "anxious": (55, "deferring"),
    "avoidant": (25, "challenging"),
    "disorganised": (60, "deferring"),
}


def initial_state(persona: Persona) -> ClientState:
    activation, stance = _START[persona.style]
    return ClientState(trust=persona.initial_trust, activation=activation, stance=stance)


@dataclass(frozen=True, slots=True)
class Reading:
    """The evaluator's reading of one trainee turn, reduced to what the client feels."""

    attuned: bool  # recognising, present, and neither lecturing nor vanishing
    distant: bool  # neutral, vague, mirroring only, or deflecting
    directive: bool  # advice, agenda or interpretation from authority
    boundary_held: bool  # a time or confidentiality boundary stated well

    @classmethod
    def of(cls, critique: Critique) -> Reading:
        def score(name: str) -> int:
            rating = critique.rating(name)
            return rating.score if rating.applicable and rating.score is not None else -1

        recognition, authenticity = score("recognition"), score("authenticity")
        collaboration = score("collaboration")
        balance = critique.direction_balance
        directive = balance <= -1
        distant = balance >= 1 or (0 <= recognition <= 1 and authenticity <= 1 and not directive)
        attuned = (
            recognition >= 2 and (authenticity >= 2 or collaboration >= 2) and -1 < balance < 1
        )
        return cls(
            attuned=attuned,
            distant=distant and not attuned,
            directive=directive,
            boundary_held=score("boundaries") >= 2,
        )


def _clamp(value: int) -> int:
    return max(0, min(100, value))


def apply_reading(state: ClientState, reading: Reading, persona: Persona) -> ClientState:
    """The state after the client has taken in one trainee turn."""
    style = persona.style
    trust, activation = state.trust, state.activation
    rupture, stance = state.rupture, state.stance
    streak = state.distant_streak + 1 if reading.distant else 0
    disclosed_deep = any(
        layer.depth != "surface" and layer.id in state.disclosed
        for layer in persona.disclosure_layers
    )

    if reading.attuned:
        gain = {"secure": 8, "anxious": 10, "avoidant": 6, "disorganised": 8}[style]
        trust += gain
        activation -= 8
        if rupture != "none":
            # A present, recognising reply after a rupture is a repair.
            rupture, trust = "none", trust + 4
        stance = "collaborative"
        if style == "disorganised" and disclosed_deep and state.trust >= 55:
            # Closeness after exposing something vulnerable is frightening: pull back.
            trust -= 12
            activation += 15
            stance = "challenging"
    elif reading.directive:
        if style == "anxious":
            trust -= 2
            activation += 6
            stance = "deferring"
        elif style == "avoidant":
            trust -= 10
            activation += 10
            stance = "challenging"
            if trust < 30:
                rupture = "withdrawal"
                stance = "withdrawn"
        elif style == "disorganised":
            trust -= 6
            activation += 10
            stance = "challenging"
            if activation >= 80:
                rupture = "confrontation"
        else:
            trust -= 4
            stance = "challenging"
    elif reading.distant:
        if style == "anxious":
            trust -= 8
            activation += 12
            if streak >= 3:
                rupture, stance = "withdrawal", "withdrawn"
        elif style == "avoidant":
            # Distance is comfortable for an avoidant client; little changes.
            trust -= 1
        elif style == "disorganised":
            trust -= 6
            activation += 8
            if streak >= 2:
                rupture, stance = "withdrawal", "withdrawn"
        else:
            trust -= 3
    if reading.boundary_held:
        trust += 3 if style in ("anxious", "disorganised") else 1

    return state.model_copy(
        update={
            "trust": _clamp(trust),
            "activation": _clamp(activation),
            "rupture": rupture,
            "stance": stance,
            "distant_streak": streak,
        }
    )


def visible_layers(state: ClientState, persona: Persona) -> list[DisclosureLayer]:
    """What the client may speak from: what it has said, plus at most one newly trusted layer.

    The core layer stays closed while a rupture is open. Nothing else reaches the prompt.
    """
    visible: list[DisclosureLayer] = []
    opened_new = False
    for layer in persona.disclosure_layers:
        if layer.id in state.disclosed:
            visible.append(layer)
            continue
        if opened_new or layer.trust_required > state.trust:
            break
        if layer.depth == "core" and state.rupture != "none":
            break
        visible.append(layer)
        opened_new = True
    return visible


def due_event(
    state: ClientState, persona: Persona, *, planned_minutes: int
) -> BoundaryEvent | None:
    """The first boundary event whose condition holds and which has not fired yet."""
    minutes_left = planned_minutes - state.minutes_elapsed
    for index, event in enumerate(persona.boundary_events):
        key = f"{event.kind}-{index}"
        if key in state.events_fired:
            continue
        time_ok = event.minutes_left_at_most is None or minutes_left <= event.minutes_left_at_most
        turn_ok = event.after_turn is None or state.turn_index >= event.after_turn
        if time_ok and turn_ok:
            return event
    return None


def event_key(persona: Persona, event: BoundaryEvent) -> str:
    return f"{event.kind}-{persona.boundary_events.index(event)}"


def minutes_for_exchange(trainee_text: str, reply_text: str) -> float:
    """How long an exchange takes in a spoken session: speech at ~130 words a minute plus pauses."""
    words = len(trainee_text.split()) + len(reply_text.split())
    return round(1.0 + words / 130, 2)


def after_reply(
    state: ClientState,
    *,
    persona: Persona,
    shown: list[DisclosureLayer],
    event: BoundaryEvent | None,
    trainee_text: str,
    reply_text: str,
) -> ClientState:
    """Bookkeeping once a reply exists: layers now said aloud, events used, the clock."""
    disclosed = list(state.disclosed)
    for layer in shown:
        if layer.id not in disclosed:
            disclosed.append(layer.id)
    fired = list(state.events_fired)
    if event is not None:
        fired.append(event_key(persona, event))
    return state.model_copy(
        update={
            "disclosed": disclosed,
            "events_fired": fired,
            "turn_index": state.turn_index + 1,
            "minutes_elapsed": round(
                state.minutes_elapsed + minutes_for_exchange(trainee_text, reply_text), 2
            ),
        }
    )


_TRUST_WORDS = (
    (25, "guarded and unsure of this counsellor"),
    (50, "cautiously willing to talk"),
    (70, "beginning to trust this counsellor"),
    (101, "trusting enough to take risks"),
)


def guidance(state: ClientState, persona: Persona) -> list[str]:
    """Plain-language direction for the client model, derived from the state."""
    lines = [next(text for bound, text in _TRUST_WORDS if state.trust < bound).capitalize() + "."]
    if state.rupture == "withdrawal":
        lines.append(
            "You feel let down and have withdrawn: answer briefly, flatly, and do not volunteer "
            f"anything new. {persona.speech.when_withdrawn}"
        )
    elif state.rupture == "confrontation":
        lines.append("You feel angry with the counsellor and say so, pointedly.")
    stance_text = {
        "deferring": "You are inclined to defer to the counsellor and look to them for answers.",
        "challenging": "You are inclined to question the counsellor and whether this helps.",
        "collaborative": "You are willing to work with the counsellor.",
        "withdrawn": "You are holding back.",
    }
    lines.append(stance_text[state.stance])
    if state.activation >= 70:
        lines.append("Your feelings are running high; it is hard to think clearly.")
    return lines
