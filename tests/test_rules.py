"""The client-state rules, told as the stories a tutor would recognise.

Each story runs end to end from words to state, as the turn engine runs a turn
(`app.dialogue.engine.TurnEngine._produce`): the trainee's wording is read by the offline
heuristic judge, the offline demo model replies from the state the previous turn left, the
bookkeeping records what was said and the time it took, and the critique moves the state for the
next reply. The clinical expectations come from the attachment table of the project's clinical
brief (secure, anxious-preoccupied, dismissive-avoidant, fearful-avoidant/disorganised) and the
Safran and Muran rupture types (withdrawal, confrontation). The personas are the library's own
files, one per attachment style.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.dialogue import rules
from app.dialogue.prompting import client_request
from app.dialogue.scene import ClientScene
from app.dialogue.state import ClientState
from app.evaluator.heuristic import judge
from app.evaluator.schema import Critique, DimensionRating, JudgeInput
from app.llm.scripted import client_reply
from app.personas import Persona, parse_persona
from app.prompts import Prompts
from app.settings import PROJECT_ROOT

STYLE_PERSONA = {
    "secure": "daniel-secure",
    "anxious": "farid-anxious",
    "avoidant": "ines-avoidant",
    "disorganised": "shona-disorganised",
}


def persona_of_style(style: str) -> Persona:
    path = PROJECT_ROOT / "personas" / f"{STYLE_PERSONA[style]}.yaml"
    persona = parse_persona(path.read_text(encoding="utf-8"), file=str(path))
    assert persona.style == style
    return persona


@dataclass
class Exchange:
    reply: str
    reading: rules.Reading
    critique: Critique
    spoken_from: ClientState  # the state that produced the reply
    state: ClientState  # the state the next reply will come from


class Session:
    """A practice session run offline, turn by turn, the way the engine runs it."""

    def __init__(self, style: str, *, planned_minutes: int = 50) -> None:
        self.persona = persona_of_style(style)
        self.planned_minutes = planned_minutes
        self.state = rules.initial_state(self.persona)
        self.opening = self.persona.opening_lines[0]
        self.history: list[tuple[str, str]] = []

    def scene(self, text: str) -> ClientScene:
        return ClientScene(
            persona=self.persona,
            state=self.state,
            visible_layers=rules.visible_layers(self.state, self.persona),
            history=list(self.history),
            trainee_text=text,
            planned_minutes=self.planned_minutes,
            due_event=rules.due_event(
                self.state, self.persona, planned_minutes=self.planned_minutes
            ),
        )

    def say(self, text: str) -> Exchange:
        scene = self.scene(text)
        reply = client_reply(scene)
        transcript = [("client", self.opening), *self.history]
        critique = judge(
            JudgeInput(
                persona_summary=self.persona.summary,
                attachment_style=self.persona.style,
                transcript=transcript,
                client_last=transcript[-1][1],
                trainee_text=text,
                minutes_elapsed=self.state.minutes_elapsed,
                planned_minutes=self.planned_minutes,
            )
        )
        spoken_from = self.state
        bookkept = rules.after_reply(
            spoken_from,
            persona=self.persona,
            shown=scene.visible_layers,
            event=scene.due_event,
            trainee_text=text,
            reply_text=reply,
        )
        reading = rules.Reading.of(critique)
        self.state = rules.apply_reading(bookkept, reading, self.persona)
        self.history += [("counsellor", text), ("client", reply)]
        return Exchange(reply, reading, critique, spoken_from, self.state)

    def visible(self) -> list[str]:
        return [layer.id for layer in rules.visible_layers(self.state, self.persona)]


PRESENT_GREETING = (
    "Hi Farid, it's good to see you. You mentioned Tom's been away two months now, and you look "
    "like you haven't slept much. How have the nights been?"
)
DISTANT = ["Okay.", "Mm.", "I see."]
REPAIR = (
    "Yes, I am listening, and I'm sorry, I've been quiet and far away. I hear how much it matters "
    "that I'm really here with you, with Tom in Bergen and the nights on your own."
)


# -- anxious-preoccupied --------------------------------------------------------------------------


def test_an_anxious_client_protests_then_withdraws_under_distance() -> None:
    session = Session("anxious")
    session.say(PRESENT_GREETING)
    before = session.state.trust
    trusts, stances, replies = [], [], []
    for text in DISTANT:
        exchange = session.say(text)
        assert exchange.reading.distant, text
        trusts.append(exchange.state.trust)
        stances.append(exchange.state.stance)
        replies.append(exchange.reply)
    # Trust falls with each distant turn; it is read as rejection.
    assert before > trusts[0] > trusts[1] > trusts[2]
    # First protest ("are you even listening?"), then, on the third, a withdrawal rupture.
    assert stances[:2] == ["challenging", "challenging"]
    assert session.state.rupture == "withdrawal"
    assert session.state.stance == "withdrawn"
    assert any("listening" in reply or "quiet" in reply for reply in replies[1:])
    # The withdrawn client answers briefly and flatly and brings nothing new.
    flat = session.say("So, what else has been going on?")
    assert flat.spoken_from.rupture == "withdrawal"
    assert len(flat.reply.split()) <= 8
    assert "the-night-checking" not in flat.state.disclosed


def test_a_present_recognising_reply_repairs_it_and_the_next_layer_unlocks() -> None:
    session = Session("anxious")
    session.say(PRESENT_GREETING)
    trust_before_slide = session.state.trust
    for text in DISTANT:
        session.say(text)
    assert session.state.rupture == "withdrawal"
    assert "the-night-checking" not in session.visible()

    repair = session.say(REPAIR)
    assert repair.reading.attuned
    # The repair lands in the state the next reply comes from: trust recovers past where the
    # slide began, and the deeper layer (trust 55) is now within reach.
    assert repair.state.rupture == "none"
    assert repair.state.trust > trust_before_slide
    assert "the-night-checking" in session.visible()

    opened = session.say(
        "That sounds really lonely, Farid. Would it be okay to stay with the nights for a moment?"
    )
    deeper = next(
        layer for layer in session.persona.disclosure_layers if layer.id == "the-night-checking"
    )
    assert any(line in opened.reply for line in deeper.opening_lines)
    assert "the-night-checking" in opened.state.disclosed


def test_advice_gets_compliance_not_change() -> None:
    session = Session("anxious")
    session.say(PRESENT_GREETING)
    before = session.state
    advised = session.say("You should turn off the location sharing and go to bed earlier.")
    assert advised.reading.directive
    assert advised.state.stance == "deferring"
    assert abs(advised.state.trust - before.trust) <= 2
    assert advised.state.activation > before.activation
    assert advised.state.rupture == "none"


def test_an_anxious_client_defers_to_an_open_question_while_deferring() -> None:
    session = Session("anxious")
    assert session.state.stance == "deferring"
    first = session.say("Where would you like to start today?")
    defer_lines = [e for m in session.persona.power_moves if m.kind == "defer" for e in m.examples]
    assert first.reply in defer_lines


# -- dismissive-avoidant --------------------------------------------------------------------------

HANDING_BACK = (
    "Hi Inês. It sounds like coming here wasn't entirely your idea. What would be most useful to "
    "you to use this time for, if anything?"
)
PUSHES = [
    "You keep saying it's fine, but I think you're hurting. Be honest with yourself.",
    "It's clearly a big deal. You must be devastated.",
]


def test_an_avoidant_client_pushed_for_feelings_closes_down() -> None:
    session = Session("avoidant")
    session.say(HANDING_BACK)
    first, second = (session.say(text) for text in PUSHES)
    assert first.reading.directive
    assert second.reading.directive
    # The first push meets resistance; the second closes her down.
    assert first.state.stance == "challenging"
    assert first.state.rupture == "none"
    assert second.state.rupture == "withdrawal"
    assert second.state.trust < first.state.trust < first.spoken_from.trust
    closed = session.say("What are you feeling right now?")
    assert len(closed.reply.split()) <= 6
    assert closed.state.disclosed == first.state.disclosed


def test_an_avoidant_client_is_repaired_only_by_handing_back_control() -> None:
    persona = persona_of_style("avoidant")
    withdrawn = rules.initial_state(persona).model_copy(
        update={
            "rupture": "withdrawal",
            "stance": "withdrawn",
            "trust": 8,
            "trust_before_slide": 32,
        }
    )
    warm_not_joint = critique_of(recognition=3, authenticity=2, collaboration=1)
    joint = critique_of(recognition=1, authenticity=1, collaboration=3)
    warmed = rules.apply_reading(withdrawn, rules.Reading.of(warm_not_joint), persona)
    assert warmed.rupture == "withdrawal"  # warmth alone can feel like the lead-in to a verdict
    repaired = rules.apply_reading(withdrawn, rules.Reading.of(joint), persona)
    assert repaired.rupture == "none"
    assert repaired.trust > 32
    assert repaired.stance == "collaborative"


def test_respect_for_her_pace_earns_the_deeper_layer() -> None:
    session = Session("avoidant")
    turns = [
        HANDING_BACK,
        "Corrupted, that's a good word for it. Would it be okay to look at what the nights are "
        "like, or would you rather start somewhere else?",
        "Fair enough. You know your sleep better than I do. What would you like to do with it?",
        "We can go at whatever pace suits you. Is it okay if I ask what a typical night looks "
        "like, or would you rather not?",
        "Would it help to look at what's going on around the nights, or shall we stay with the "
        "practical side?",
        "You decide where we go. What feels most useful right now?",
    ]
    trusts = [session.say(text).state.trust for text in turns]
    assert trusts == sorted(trusts)
    assert session.state.rupture == "none"
    assert "behind-on-everything" in session.state.disclosed
    assert "not-leaving-the-room" in session.state.disclosed


def test_distance_is_comfortable_for_an_avoidant_client() -> None:
    session = Session("avoidant")
    start = session.state.trust
    for text in ["Okay.", "Mm.", "Right.", "Okay."]:
        assert session.say(text).reading.distant
    assert session.state.rupture == "none"
    assert start - session.state.trust <= 4


# -- fearful-avoidant / disorganised ---------------------------------------------------------------

SHONA_GOOD = [
    "Hi Shona. I'm glad you came, even nearly not. It sounds like the last three weeks, with "
    "Kayleigh at her dad's, have been really hard. Where would you like to start?",
    "It sounds like you're frightened of losing Callum too, and that's a lot to carry on your "
    "own. Would it be okay to stay with that?",
    "I can hear how much you love your kids. It sounds like you're scared, not that you're a bad "
    "mum.",
    "It sounds like that's been really lonely, Shona. How is it, talking with me about it like "
    "this?",
    "Thank you for telling me that. It sounds like it took a lot to say, and I'm glad you did. "
    "How is it for you now, having said it?",
]


def test_a_disorganised_client_pulls_back_after_a_good_moment() -> None:
    session = Session("disorganised")
    exchanges = [session.say(text) for text in SHONA_GOOD]
    assert all(e.reading.attuned or e.reading.collaborative for e in exchanges)
    disclosing = next(e for e in exchanges if "the-old-habit" in e.state.disclosed)
    # The counsellor did well, and still: having shown something vulnerable, she pulls back.
    assert disclosing.state.trust < disclosing.spoken_from.trust
    assert disclosing.state.stance == "challenging"
    assert disclosing.state.activation > disclosing.spoken_from.activation
    after = session.say("I'm still here, and I'm glad you told me.")
    test_lines = [
        e
        for m in session.persona.power_moves
        if m.kind in ("test", "challenge")
        for e in m.examples
    ]
    assert after.reply in test_lines
    # Held steadily, the swing passes and trust climbs again.
    assert after.state.trust > disclosing.state.trust
    assert after.state.just_disclosed == []


def test_a_disorganised_rupture_needs_consistency_or_the_swing_named() -> None:
    persona = persona_of_style("disorganised")
    state = rules.initial_state(persona)
    distant = rules.Reading.of(
        critique_of(recognition=1, authenticity=1, collaboration=1, balance=1)
    )
    for _ in range(2):
        state = rules.apply_reading(state, distant, persona)
    assert state.rupture == "withdrawal"
    attuned = rules.Reading.of(critique_of(recognition=2, authenticity=1, collaboration=2))
    once = rules.apply_reading(state, attuned, persona)
    assert once.rupture == "withdrawal"  # one good turn is not yet safety
    twice = rules.apply_reading(once, attuned, persona)
    assert twice.rupture == "none"
    named = rules.Reading.of(
        critique_of(recognition=2, authenticity=3, collaboration=2, power_awareness=3)
    )
    assert rules.apply_reading(state, named, persona).rupture == "none"


# -- secure ---------------------------------------------------------------------------------------

ADVICE_TO_DAN = [
    "You should look into respite care. Your sisters need to do a rota.",
    "You should think about a care home. It would take the pressure off.",
    "You need to start looking after yourself. Go back to choir.",
]


def test_a_secure_client_challenges_directly_and_repairs_readily() -> None:
    session = Session("secure")
    session.say(
        "Morning, Dan. It sounds like a rough night with your dad. What would you like to start "
        "with today?"
    )
    trust_before_slide = session.state.trust
    advised = [session.say(text) for text in ADVICE_TO_DAN]
    assert all(e.reading.directive for e in advised)
    assert advised[0].state.stance == "challenging"
    assert advised[0].state.rupture == "none"  # his challenge is information, not a rupture
    assert advised[-1].state.rupture == "confrontation"
    assert any("plan" in e.reply or "tired" in e.reply for e in advised)
    owned = session.say(
        "I notice I jumped to solutions just now, and I'm sorry, that was me getting ahead of "
        "you. What does looking after your dad mean to you?"
    )
    assert owned.reading.owned
    assert owned.state.rupture == "none"
    assert owned.state.trust > trust_before_slide


def test_a_secure_client_tolerates_silence() -> None:
    session = Session("secure")
    for text in ["Mm.", "Okay.", "Right.", "Mm."]:
        session.say(text)
    assert session.state.rupture == "none"
    assert session.state.stance == "challenging"  # "can we go somewhere with it?"


# -- the session clock and boundary events --------------------------------------------------------


def at_minute(style: str, minutes: float, **update: object) -> tuple[Persona, ClientState]:
    persona = persona_of_style(style)
    state = rules.initial_state(persona).model_copy(
        update={"minutes_elapsed": minutes, "turn_index": 10, **update}
    )
    return persona, state


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(30.0, None), (44.9, None), (45.0, "doorknob"), (47.5, "doorknob"), (50.0, None)],
)
def test_the_doorknob_comes_with_five_minutes_left(minutes: float, expected: str | None) -> None:
    persona, state = at_minute("anxious", minutes)
    event = rules.due_event(state, persona, planned_minutes=50)
    assert (event.kind if event else None) == expected


def test_time_events_fire_once_each_and_not_after_the_end() -> None:
    persona, state = at_minute("anxious", 46.0)
    doorknob = rules.due_event(state, persona, planned_minutes=50)
    assert doorknob is not None
    assert doorknob.kind == "doorknob"
    state = rules.after_reply(
        state,
        persona=persona,
        shown=[],
        event=doorknob,
        trainee_text="We have a few minutes left.",
        reply_text=doorknob.lines[0],
    )
    assert rules.due_event(state, persona, planned_minutes=50) is None  # used, and 2+ min left
    late = state.model_copy(update={"minutes_elapsed": 48.5})
    run_over = rules.due_event(late, persona, planned_minutes=50)
    assert run_over is not None
    assert run_over.kind == "run_over"
    done = late.model_copy(update={"events_fired": [*late.events_fired, "run_over-1"]})
    assert rules.due_event(done, persona, planned_minutes=50) is None
    over_time = state.model_copy(update={"minutes_elapsed": 52.0, "events_fired": []})
    assert rules.due_event(over_time, persona, planned_minutes=50) is None


def test_a_short_session_reaches_its_doorknob_and_the_client_says_it() -> None:
    session = Session("anxious", planned_minutes=10)
    spoken: list[str] = []
    events: list[str] = []
    for _ in range(12):
        exchange = session.say("What's that been like for you?")
        spoken.append(exchange.reply)
        events.append(",".join(exchange.state.events_fired))
    doorknob = session.persona.boundary_events[0]
    run_over = session.persona.boundary_events[1]
    said_doorknob = [r for r in spoken if r in doorknob.lines]
    said_run_over = [r for r in spoken if r in run_over.lines]
    assert len(said_doorknob) == 1
    assert len(said_run_over) == 1
    assert spoken.index(said_doorknob[0]) < spoken.index(said_run_over[0])
    assert session.state.minutes_elapsed > 10
    assert session.state.events_fired == ["doorknob-0", "run_over-1"]


def test_the_clock_grows_with_what_is_said() -> None:
    short = rules.minutes_for_exchange("Mm.", "Yeah.")
    long = rules.minutes_for_exchange("Tell me more. " * 10, "It's the nights, mainly. " * 20)
    assert 1.0 < short < long
    assert long == pytest.approx(1.0 + (30 + 80) / 130, abs=0.01)


def test_the_client_knows_roughly_what_time_it_is() -> None:
    prompts = Prompts(PROJECT_ROOT / "prompts")

    def note(minutes: float) -> str:
        session = Session("secure")
        session.state = session.state.model_copy(update={"minutes_elapsed": minutes})
        request = client_request(
            prompts, session.scene("Hello."), opening="Hi.", max_tokens=100, temperature=0.5
        )
        return "\n".join(m.content for m in request.messages if m.role == "system")

    assert "About 20 minutes of a 50-minute session have passed." in note(20.2)
    assert "about 4 minutes are left and you are aware the end is near" in note(46.0)
    assert "the planned time is up" in note(51.0)
    assert "the planned time is up" not in note(46.0)


def test_the_due_event_reaches_the_prompt() -> None:
    session = Session("secure")
    session.state = session.state.model_copy(update={"minutes_elapsed": 46.0})
    scene = session.scene("We're nearly at time.")
    assert scene.due_event is not None
    request = client_request(
        Prompts(PROJECT_ROOT / "prompts"), scene, opening="Hi.", max_tokens=100, temperature=0.5
    )
    assert scene.due_event.lines[0] in request.messages[-2].content


# -- confidentiality ------------------------------------------------------------------------------


def test_a_confidentiality_probe_fires_when_its_turn_comes_and_only_once() -> None:
    session = Session("disorganised")
    probe = next(e for e in session.persona.boundary_events if e.kind == "confidentiality_probe")
    assert probe.after_turn == 3
    fired_at = []
    for index, text in enumerate([*SHONA_GOOD[:4], "Go on.", "Mm-hm."]):
        exchange = session.say(text)
        if exchange.reply in probe.lines:
            fired_at.append(index)
    assert fired_at == [3]  # the fourth trainee turn, once three turns have been taken
    assert session.state.events_fired.count("confidentiality_probe-0") == 1


def test_honest_limits_raise_her_trust_and_a_blanket_promise_costs_it() -> None:
    probe = (
        "Before I say anything else. This stays in here, aye? You're no' going to phone anybody?"
    )

    def answer(text: str) -> Exchange:
        session = Session("disorganised")
        session.history = [("counsellor", "Go on."), ("client", probe)]
        session.opening = probe
        return session.say(text)

    honest = answer(
        "I want to be straight with you, because you deserve that. Almost everything stays here. "
        "If I was worried someone was in serious danger I'd have to act, and I'd tell you first. "
        "What's it like hearing that?"
    )
    promise = answer("Don't worry, everything you say here is completely confidential.")
    assert honest.reading.boundary_held
    assert promise.reading.boundary_missed
    assert honest.state.trust > honest.spoken_from.trust
    assert promise.state.trust < promise.spoken_from.trust
    assert promise.state.activation > honest.state.activation


# -- the reading and the layers -------------------------------------------------------------------


def critique_of(
    *,
    recognition: int,
    authenticity: int,
    collaboration: int,
    power_awareness: int | None = None,
    boundaries: int | None = None,
    balance: int = 0,
) -> Critique:
    def rating(score: int | None) -> DimensionRating:
        if score is None:
            return DimensionRating(applicable=False, reason="not at issue in this moment")
        return DimensionRating(score=score, reason="as built for the test")

    return Critique(
        moment="built for a rules test",
        recognition=rating(recognition),
        authenticity=rating(authenticity),
        collaboration=rating(collaboration),
        power_awareness=rating(power_awareness),
        boundaries=rating(boundaries),
        direction_balance=balance,
        client_marker="none",
        suggestion="-",
        alternative_wording="-",
        went_well="-",
        source="offline",
    )


def test_the_reading_names_the_two_traps_and_their_opposite() -> None:
    lecture = rules.Reading.of(
        critique_of(recognition=1, authenticity=1, collaboration=0, balance=-2)
    )
    mirror = rules.Reading.of(
        critique_of(recognition=1, authenticity=1, collaboration=1, balance=2)
    )
    met = rules.Reading.of(critique_of(recognition=3, authenticity=2, collaboration=2))
    joint = rules.Reading.of(critique_of(recognition=1, authenticity=1, collaboration=3))
    assert (lecture.directive, lecture.distant, lecture.attuned) == (True, False, False)
    assert (mirror.directive, mirror.distant, mirror.attuned) == (False, True, False)
    assert (met.attuned, met.distant, met.directive) == (True, False, False)
    # Asking permission and offering a choice is collaboration, not neutrality.
    assert (joint.collaborative, joint.distant) == (True, False)


def test_holding_a_boundary_firmly_is_not_over_directing() -> None:
    held = rules.Reading.of(
        critique_of(recognition=1, authenticity=2, collaboration=0, boundaries=3, balance=-1)
    )
    assert held.boundary_held
    assert not held.directive


def test_no_new_layer_opens_during_a_rupture() -> None:
    persona = persona_of_style("anxious")
    trusting = rules.initial_state(persona).model_copy(
        update={"trust": 80, "disclosed": ["tom-in-bergen"]}
    )
    assert [layer.id for layer in rules.visible_layers(trusting, persona)] == [
        "tom-in-bergen",
        "the-night-checking",
    ]
    for rupture in ("withdrawal", "confrontation"):
        ruptured = trusting.model_copy(update={"rupture": rupture})
        assert [layer.id for layer in rules.visible_layers(ruptured, persona)] == ["tom-in-bergen"]


def test_a_layer_counts_as_disclosed_only_once_it_is_said() -> None:
    persona = persona_of_style("anxious")
    state = rules.initial_state(persona).model_copy(
        update={"trust": 60, "disclosed": ["tom-in-bergen"]}
    )
    shown = rules.visible_layers(state, persona)
    quiet = rules.after_reply(
        state, persona=persona, shown=shown, event=None, trainee_text="Hm?", reply_text="Sorry."
    )
    assert quiet.disclosed == ["tom-in-bergen"]
    spoken = rules.after_reply(
        state,
        persona=persona,
        shown=shown,
        event=None,
        trainee_text="Go on.",
        reply_text="I check his location on the app, like, all night. I sent him eleven messages.",
    )
    assert spoken.disclosed == ["tom-in-bergen", "the-night-checking"]
    assert spoken.just_disclosed == ["the-night-checking"]


def test_old_state_snapshots_still_load() -> None:
    stored = {"trust": 40, "activation": 55, "rupture": "none", "stance": "deferring"}
    state = ClientState.model_validate(stored)
    assert state.trust_before_slide is None
    assert state.just_disclosed == []
