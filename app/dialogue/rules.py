"""Client-state rules: how the trainee's conduct, as the evaluator read it, moves the client.

The rules follow the attachment table of the clinical brief (summarised in docs/architecture.md):

    secure        raised by honesty and collaboration, lowered by being talked down to; meets a
                  miss with a mild, direct challenge and repairs readily
    anxious       raised by presence and clear, warm boundaries; distance is read as rejection:
                  protest first ("are you even listening?"), then, after three distant turns, a
                  withdrawal rupture (over-agreeable, flat); advice gets compliance, not change
    avoidant      raised by respect for autonomy and pace; distance is comfortable; pushing for
                  feelings, advice or interpretation lowers trust and, a second time, closes
                  the client down; only a turn that hands back control repairs it
    disorganised  raised by consistency and safety; pulls back after disclosing something
                  vulnerable even when the counsellor did well; repairs need consistency (two
                  attuned turns) or the swing named gently

Ruptures follow Safran and Muran: withdrawal or confrontation. A resolved rupture restores the
trust the slide cost and adds to it, which is why repair matters more than never missing.

They are pure functions: no I/O, no randomness. The state lags one turn by design: the critique
of turn N shapes the client at turn N+1.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.dialogue import guard
from app.dialogue.state import ClientState, Rupture, Stance
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
    directive: bool  # advice, agenda, pushing or interpretation from authority
    boundary_held: bool  # a time or confidentiality boundary stated well
    collaborative: bool = False  # the process made joint; the client keeps control and pace
    owned: bool = False  # real and present, or owning the counsellor's part in what happened
    boundary_missed: bool = False  # a boundary was at issue and was evaded, broken or recited

    @property
    def missed(self) -> bool:
        return self.distant or self.directive or self.boundary_missed

    @classmethod
    def of(cls, critique: Critique) -> Reading:
        def score(name: str) -> int:
            rating = critique.rating(name)
            return rating.score if rating.applicable and rating.score is not None else -1

        recognition, authenticity = score("recognition"), score("authenticity")
        collaboration, power = score("collaboration"), score("power_awareness")
        boundaries = score("boundaries")
        balance = critique.direction_balance
        boundary_held = boundaries >= 2
        boundary_missed = 0 <= boundaries <= 1
        # Holding a boundary well is a necessary use of power, not over-direction.
        directive = balance <= -1 and not boundary_held
        collaborative = collaboration >= 2 and not directive
        attuned = (
            recognition >= 2 and (authenticity >= 2 or collaboration >= 2) and -1 < balance < 1
        )
        distant = (
            not attuned
            and not collaborative
            and not boundary_missed
            and (balance >= 1 or (0 <= recognition <= 1 and authenticity <= 1 and not directive))
        )
        return cls(
            attuned=attuned,
            distant=distant,
            directive=directive,
            boundary_held=boundary_held,
            collaborative=collaborative,
            owned=(authenticity >= 2 or power >= 2) and not directive,
            boundary_missed=boundary_missed,
        )


@dataclass(frozen=True, slots=True)
class _Dynamics:
    """How one attachment style's trust (and activation) moves; see the module docstring."""

    attuned: tuple[int, int]  # (trust, activation) change for an attuned turn
    collaborative: tuple[int, int]  # for a collaborative turn that is not attuned
    distant: tuple[int, int]
    directive: tuple[int, int]
    held: tuple[int, int]  # a boundary held well
    missed: tuple[int, int]  # a boundary evaded, broken or recited
    repair_bonus: int  # added on top of the trust restored by a repair
    withdraw_after_distant: int | None  # consecutive distant turns that open a withdrawal
    rupture_after_directive: tuple[int, Rupture] | None


_DYNAMICS: dict[AttachmentStyle, _Dynamics] = {
    "secure": _Dynamics(
        attuned=(8, -5),
        collaborative=(5, -3),
        distant=(-3, 2),
        directive=(-5, 4),
        held=(2, 0),
        missed=(-1, 0),
        repair_bonus=4,
        withdraw_after_distant=None,
        rupture_after_directive=(3, "confrontation"),
    ),
    "anxious": _Dynamics(
        attuned=(10, -10),
        collaborative=(4, -4),
        distant=(-9, 12),
        directive=(-2, 6),
        held=(4, 0),
        missed=(0, -3),  # running over brings relief now; the cost comes later
        repair_bonus=6,
        withdraw_after_distant=3,
        rupture_after_directive=None,
    ),
    "avoidant": _Dynamics(
        attuned=(3, -2),  # warmth alone can feel like the lead-in to a verdict
        collaborative=(7, -4),
        distant=(-1, -2),  # distance is comfortable
        directive=(-9, 8),
        held=(3, -2),
        missed=(-3, 4),
        repair_bonus=3,
        withdraw_after_distant=None,
        rupture_after_directive=(2, "withdrawal"),
    ),
    "disorganised": _Dynamics(
        attuned=(8, -6),
        collaborative=(4, -3),
        distant=(-6, 8),
        directive=(-6, 10),
        held=(4, -6),
        missed=(-4, 6),
        repair_bonus=4,
        withdraw_after_distant=2,
        rupture_after_directive=None,
    ),
}
_AVOIDANT_FLOOR = 12  # below this an avoidant client closes down at the first push
_DISORGANISED_FLOOD = 80  # activation at which a disorganised client confronts
_SWING = (-10, 15)  # a disorganised client's pull-back after saying something vulnerable


def _clamp(value: int) -> int:
    return max(0, min(100, value))


def _repairs(state: ClientState, reading: Reading, style: AttachmentStyle) -> bool:
    """Whether this turn resolves the open rupture, for this attachment style."""
    if state.rupture == "none" or reading.directive:
        return False
    if state.rupture == "confrontation":
        # Resolved by non-defensive exploration: the counsellor present and owning their part.
        return reading.owned or (style == "secure" and reading.attuned)
    if style == "avoidant":
        return reading.collaborative  # control handed back, not feelings pursued
    if style == "disorganised":
        # Consistency: a second attuned turn in a row, or the swing named and owned.
        return (reading.attuned and state.attuned_streak >= 1) or (
            reading.owned and (reading.attuned or reading.collaborative)
        )
    return reading.attuned or (reading.owned and reading.collaborative)


def apply_reading(state: ClientState, reading: Reading, persona: Persona) -> ClientState:
    """The state after the client has taken in one trainee turn."""
    style = persona.style
    rules = _DYNAMICS[style]
    trust, activation = state.trust, state.activation
    rupture, stance = state.rupture, state.stance
    distant_streak = state.distant_streak + 1 if reading.distant else 0
    directive_streak = state.directive_streak + 1 if reading.directive else 0
    slide_from = state.trust_before_slide
    if reading.missed and rupture == "none" and slide_from is None:
        slide_from = state.trust

    if reading.attuned and (style != "avoidant" or not reading.collaborative):
        d_trust, d_act = rules.attuned
    elif reading.collaborative or reading.attuned:
        d_trust, d_act = rules.collaborative
    elif reading.directive:
        d_trust, d_act = rules.directive
    elif reading.distant:
        d_trust, d_act = rules.distant
    else:
        d_trust, d_act = 0, 0
    if reading.boundary_held:
        d_trust, d_act = d_trust + rules.held[0], d_act + rules.held[1]
    elif reading.boundary_missed:
        d_trust, d_act = d_trust + rules.missed[0], d_act + rules.missed[1]
    trust, activation = trust + d_trust, activation + d_act

    if _repairs(state, reading, style):
        trust = max(trust, slide_from if slide_from is not None else trust) + rules.repair_bonus
        rupture, slide_from = "none", None
        activation -= 6
        stance = "collaborative"
    elif rupture == "none":
        stance = _stance(style, reading, stance, distant_streak, activation)
        rupture = _rupture(style, reading, rules, distant_streak, directive_streak, trust)
        rupture = _rupture_from_flooding(style, rupture, activation)
    elif style == "disorganised" and reading.attuned:
        activation -= 4  # the first steady turn settles her a little; the rupture stays open

    if style == "disorganised" and state.just_disclosed:
        # Having shown something vulnerable, closeness is frightening: she pulls back, and if
        # the counsellor also missed the moment, turns on them.
        trust, activation = trust + _SWING[0], activation + _SWING[1]
        stance = "challenging"
        if rupture == "none" and not (reading.attuned or reading.collaborative):
            rupture = "confrontation"

    if rupture == "withdrawal":
        stance = "withdrawn"
    elif rupture == "confrontation":
        stance = "challenging"
    if rupture == "none" and not reading.missed:
        slide_from = None
    return state.model_copy(
        update={
            "trust": _clamp(trust),
            "activation": _clamp(activation),
            "rupture": rupture,
            "stance": stance,
            "distant_streak": distant_streak,
            "directive_streak": directive_streak,
            "attuned_streak": state.attuned_streak + 1 if reading.attuned else 0,
            "trust_before_slide": slide_from if slide_from is None else _clamp(slide_from),
        }
    )


def _stance(
    style: AttachmentStyle, reading: Reading, stance: Stance, distant_streak: int, activation: int
) -> Stance:
    """The stance toward the counsellor's authority when no rupture is open."""
    if reading.directive:
        return "deferring" if style == "anxious" else "challenging"
    if reading.attuned or reading.collaborative:
        if style == "avoidant" and not reading.collaborative:
            return stance  # recognised, but not yet trusted with control
        if style == "anxious" and activation >= 50:
            return "deferring"  # still looking to the counsellor to lead
        return "collaborative"
    if reading.distant:
        if style == "anxious":
            return "challenging"  # protest: "are you even listening?"
        if style == "secure" and distant_streak >= 2:
            return "challenging"  # "can we go somewhere with it?"
    return stance


def _rupture(
    style: AttachmentStyle,
    reading: Reading,
    rules: _Dynamics,
    distant_streak: int,
    directive_streak: int,
    trust: int,
) -> Rupture:
    if rules.withdraw_after_distant is not None and distant_streak >= rules.withdraw_after_distant:
        return "withdrawal"
    if rules.rupture_after_directive is not None:
        count, kind = rules.rupture_after_directive
        if directive_streak >= count:
            return kind
    if style == "avoidant" and reading.directive and trust < _AVOIDANT_FLOOR:
        return "withdrawal"
    return "none"


def _rupture_from_flooding(style: AttachmentStyle, rupture: Rupture, activation: int) -> Rupture:
    if style == "disorganised" and rupture == "none" and activation >= _DISORGANISED_FLOOD:
        return "confrontation"
    return rupture


def visible_layers(state: ClientState, persona: Persona) -> list[DisclosureLayer]:
    """What the client may speak from: what it has said, plus at most one newly trusted layer.

    No new layer opens while a rupture is open: a withdrawn or angry client brings nothing new.
    Nothing else reaches the prompt.
    """
    visible: list[DisclosureLayer] = []
    opened_new = False
    for layer in persona.disclosure_layers:
        if layer.id in state.disclosed:
            visible.append(layer)
            continue
        if opened_new or layer.trust_required > state.trust or state.rupture != "none":
            break
        visible.append(layer)
        opened_new = True
    return visible


def event_key(persona: Persona, event: BoundaryEvent) -> str:
    return f"{event.kind}-{persona.boundary_events.index(event)}"


def due_event(
    state: ClientState, persona: Persona, *, planned_minutes: int
) -> BoundaryEvent | None:
    """The first boundary event whose condition holds and which has not fired yet.

    Each event fires at most once per conversation path, and at most one per reply. Time events
    belong to the end of a session that is still running: once the planned time is up the
    counsellor holds the ending, so a doorknob or a request for more time no longer starts.
    """
    minutes_left = planned_minutes - state.minutes_elapsed
    for index, event in enumerate(persona.boundary_events):
        if f"{event.kind}-{index}" in state.events_fired:
            continue
        if event.minutes_left_at_most is not None and not (
            0 < minutes_left <= event.minutes_left_at_most
        ):
            continue
        if event.after_turn is not None and state.turn_index < event.after_turn:
            continue
        return event
    return None


def minutes_for_exchange(trainee_text: str, reply_text: str) -> float:
    """How long an exchange takes in a spoken session: speech at ~130 words a minute plus pauses."""
    words = len(trainee_text.split()) + len(reply_text.split())
    return round(1.0 + words / 130, 2)


def said_aloud(layer: DisclosureLayer, reply_text: str, *, others: str = "") -> bool:
    """Whether a reply actually speaks from a newly offered layer.

    The surface layer counts as soon as the reply touches its topic; deeper and core layers need
    words of their own (not shared with `others`, the persona's other material) or their opening.
    """
    reply = guard.content_stems(reply_text)
    layer_words = guard.content_stems(" ".join([layer.content, *layer.opening_lines]))
    if layer.depth == "surface":
        return len(reply & layer_words) >= 2
    own = layer_words - guard.content_stems(others)
    if len(reply & own) >= 2:
        return True
    reply_tokens = guard.tokens(reply_text)
    return any(
        len(words := guard.tokens(sentence)) >= 4
        and len(set(words) & set(reply_tokens)) >= 0.7 * len(set(words))
        for line in layer.opening_lines
        for sentence in guard.sentences(line)
    )


def _public_text(persona: Persona) -> str:
    return " ".join(
        [
            persona.presenting_problem,
            persona.history,
            persona.transference,
            persona.identity.background,
            *persona.opening_lines,
            *(example for move in persona.power_moves for example in move.examples),
        ]
    )


def after_reply(
    state: ClientState,
    *,
    persona: Persona,
    shown: list[DisclosureLayer],
    event: BoundaryEvent | None,
    trainee_text: str,
    reply_text: str,
) -> ClientState:
    """Bookkeeping once a reply exists: layers now said aloud, events used, the clock.

    A layer offered to the client counts as disclosed only once a reply speaks from it: a
    client who was allowed to say something and did not, has not said it.
    """
    disclosed = list(state.disclosed)
    fresh: list[str] = []
    public = _public_text(persona)
    for layer in shown:
        if layer.id in disclosed or not said_aloud(layer, reply_text, others=public):
            continue
        disclosed.append(layer.id)
        if layer.depth != "surface":
            fresh.append(layer.id)
    fired = list(state.events_fired)
    if event is not None:
        fired.append(event_key(persona, event))
    return state.model_copy(
        update={
            "disclosed": disclosed,
            "just_disclosed": fresh,
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
    if state.just_disclosed and persona.style == "disorganised":
        lines.append(
            "You have just let the counsellor see something you never show; now it feels "
            "dangerous, and part of you wants to take it back or push them away."
        )
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
