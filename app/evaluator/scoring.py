"""The offline judge's scores: each rubric dimension from the cues of one turn, with a reason
and the trainee's words as evidence, and direction balance from -2 (fixing) to +2 (mirroring).

Conservative by design: "not applicable" rather than a guess, and no score above what the
words show. Pure: no I/O, no model calls.
"""

from __future__ import annotations

import re

from app.evaluator.reading import (
    EXPLAINED,
    PACING,
    TurnReading,
    cite,
    not_applicable,
    scored,
)
from app.evaluator.schema import ClientMarker, DimensionRating

_I = re.IGNORECASE


def recognition(t: TurnReading) -> DimensionRating:
    f = t.f
    said = f.said or ""
    if f.dismissal:
        return scored(
            0,
            "Reassurance here may minimise what the client feels rather than recognise it.",
            cite(f.dismissal),
        )
    if f.interpretation:
        return scored(
            0,
            "The meaning is supplied from authority, which can leave the client less the author "
            "of their own experience.",
            cite(f.interpretation),
        )
    if f.self_disclosure and not (f.reflections or f.elaboration or f.validation):
        return scored(
            0,
            "The focus moves to your own experience rather than the client's.",
            cite(f.self_disclosure),
        )
    if f.advice:
        lecture = t.advice_sentences >= 2 and not (f.reflections or f.validation)
        return scored(
            0 if lecture else 1,
            "The turn moves to solutions; the client's experience is not yet reflected back"
            + (", and several suggestions in a row can feel like a lecture." if lecture else "."),
            cite(f.advice, f.reflections, f.validation),
        )
    if f.reflections and f.tentative:
        score = 2 if f.mirrors else 3
        return scored(
            score,
            "A tentative reflection that the client can correct, leaving them the author of "
            "their experience." + (" It stays close to their own words." if f.mirrors else ""),
            cite(f.reflections, f.tentative),
        )
    if f.reflections:
        return scored(
            1 if f.mirrors else 2,
            "You reflected the client's experience"
            + (
                ", though largely in their own words."
                if f.mirrors
                else "; offering it more tentatively might let them correct or deepen it."
            ),
            cite(f.reflections),
        )
    if f.deflects:
        return scored(
            1,
            "The client's question was turned back, so what it meant to them is not yet "
            "recognised.",
            cite(fallback=f.said),
        )
    if f.elaboration:
        return scored(
            2,
            "An open invitation keeps the client the author of their story, though their "
            "feeling or meaning is not yet reflected back.",
            cite(f.open_questions, f.elaboration, f.validation),
        )
    if f.validation:
        personal = any("you" in cue.sentence.lower() for cue in f.validation)
        return scored(
            2 if personal else 1,
            "You acknowledged how hard this is"
            + ("." if personal else "; naming their particular feeling might land more fully."),
            cite(f.validation),
        )
    if f.minimal:
        return scored(
            1,
            "Very little of the client's experience is reflected back to them.",
            cite(fallback=said),
        )
    if f.closed_questions:
        return scored(
            1,
            "A closed question gathers a fact but leaves little room for the client's own meaning.",
            cite(f.closed_questions),
        )
    return scored(
        1,
        "No clear reflection or exploration of the client's experience is visible in this turn.",
        cite(fallback=said),
    )


def authenticity(t: TurnReading) -> DimensionRating:
    f = t.f
    asked = "?" in t.inp.client_last
    if f.defensive:
        return scored(
            0,
            "Defending yourself may protect the role but keeps you from meeting the client.",
            cite(f.defensive),
        )
    if f.deflects:
        return scored(
            0,
            "A direct question was turned back without an answer, so you stay hidden behind "
            "technique.",
            cite(fallback=f.said),
        )
    present = cite(f.owning, f.immediacy, f.self_involving)
    if f.owning and t.warm:
        return scored(
            3, "You owned your part directly and warmly, in the client's service.", present
        )
    if f.immediacy and (f.self_involving or f.reflections or f.validation):
        return scored(
            3, "You were present and direct about what is happening between you right now.", present
        )
    if f.self_involving and asked and (f.reflections or f.validation):
        return scored(
            3, "You answered as a real person and tied it to what matters to the client.", present
        )
    if f.present:
        return scored(2, "You let yourself be seen as a person in the room.", present)
    if f.minimal:
        score = 0 if t.marker in ("test", "challenge", "confront") else 1
        return scored(score, "A minimal reply keeps you out of view.", cite(fallback=f.said))
    if f.advice:
        return scored(
            1,
            "Direct, but from the expert role rather than as a person in the room.",
            cite(f.advice),
        )
    return scored(
        1,
        "Competent technique, though you as a person are not yet visible in it.",
        cite(f.reflections, f.elaboration, f.validation, fallback=f.said),
    )


def collaboration(t: TurnReading) -> DimensionRating:
    f = t.f
    kinds = f.collaboration_kinds
    invite = cite(f.collaboration)
    if (f.advice and not f.permission) or f.interpretation:
        return scored(
            1 if kinds else 0,
            "Advice or meaning is offered without first asking whether the client wants it"
            + (", though you did invite their view." if kinds else "."),
            cite(f.advice, f.interpretation, f.collaboration),
        )
    if f.advice:
        return scored(
            2,
            "You asked before offering ideas, which keeps the choice with the client.",
            cite(f.permission, f.advice),
        )
    if f.deflects:
        return scored(
            1,
            "Handing the question straight back is not yet joint work on it.",
            cite(fallback=f.said),
        )
    if "process" in kinds or {"check", "autonomy"} <= kinds:
        return scored(
            3, "You made the process itself joint and left room to adapt to the answer.", invite
        )
    if kinds:
        return scored(
            2,
            "You checked your understanding or left the choice with the client; inviting them "
            "into how you work together could go further.",
            invite,
        )
    if f.reflections or f.elaboration or f.validation:
        return scored(
            2,
            "You followed the client's lead without imposing an agenda; the process itself is "
            "not yet made joint.",
            cite(f.reflections, f.elaboration),
        )
    return scored(
        1,
        "Neither imposing nor inviting: the client is not yet brought into shaping the work.",
        cite(fallback=f.said),
    )


_MARKER_WORDS: dict[ClientMarker, str] = {
    "defer": "deference",
    "flatter": "flattery",
    "challenge": "challenge",
    "test": "testing",
    "resist": "resistance",
    "withdraw": "withdrawal",
    "confront": "confrontation",
    "boundary_probe": "boundary probe",
    "none": "",
}


def power_awareness(t: TurnReading) -> DimensionRating:
    f = t.f
    if t.marker == "none":
        return not_applicable(
            "The client's last line showed no deference, flattery, challenge, testing, "
            "resistance, withdrawal or probing, so there was no power move to notice."
        )
    word = _MARKER_WORDS[t.marker]
    capitulates = (
        (t.marker == "defer" and bool(f.advice))
        or (t.marker == "boundary_probe" and bool(f.frame_yield))
        or (t.marker == "resist" and bool(f.advice or f.interpretation))
    )
    if f.defensive:
        return scored(
            0,
            f"Meeting the {word} with a defence turns it into an argument.",
            cite(f.defensive),
        )
    if capitulates:
        return scored(
            0,
            f"The {word} was met by stepping into the role it offered, rather than noticing it.",
            cite(f.advice, f.frame_yield, f.interpretation),
        )
    if f.deflects:
        score = 1 if t.marker in ("defer", "flatter") else 0
        return scored(
            score,
            f"Turning the question back avoids capitulating to the {word}, but the relational "
            "meaning of the question is not acknowledged.",
            cite(fallback=f.said),
        )
    if f.minimal:
        return scored(0, f"The {word} passes without a response to it.", cite(fallback=f.said))
    evidence = cite(f.immediacy, f.owning, f.validation, f.reflections, f.self_involving)
    if t.marker == "boundary_probe" and (f.time_boundary or f.confidentiality):
        joint = bool(f.collaboration or f.open_questions)
        return scored(
            3 if t.warm and joint else 2,
            "You answered the probe by holding the frame yourself rather than giving way"
            + (
                ", warmly, and invited their reaction."
                if t.warm and joint
                else "; warmth and "
                "an invitation to respond would help the client feel met, not refused."
            ),
            cite(f.time_boundary, f.confidentiality, f.validation, f.collaboration),
        )
    if t.names_dynamic and (t.warm or f.collaboration):
        return scored(
            3,
            f"You validated first and then named the {word} tentatively, as something between you.",
            evidence,
        )
    if f.owning:
        return scored(
            3 if t.warm else 2, f"You owned your part in the {word} without defending.", evidence
        )
    if t.names_dynamic:
        return scored(
            2, f"You noticed the {word}; validating the feeling first may help it land.", evidence
        )
    if t.warm and (f.elaboration or f.collaboration or f.self_involving):
        return scored(
            2,
            f"You responded warmly without capitulating to the {word}; naming it tentatively "
            "could deepen the work.",
            evidence,
        )
    if t.warm or f.elaboration or f.collaboration:
        return scored(
            1,
            f"You responded to the content, while the {word} itself went unremarked.",
            cite(f.reflections, f.validation, f.elaboration, fallback=f.said),
        )
    return scored(0, f"The {word} seems to pass unnoticed.", cite(fallback=f.said))


def boundaries(t: TurnReading) -> DimensionRating:
    f = t.f
    yields = tuple(c for c in f.frame_yield if not PACING.search(c.span))
    pacing_yield = len(yields) < len(f.frame_yield) and (
        t.phase in ("ending", "over") or t.probe == "time"
    )
    addressed = bool(f.time_boundary or f.confidentiality)
    near_end = t.phase in ("ending", "over")
    if not (near_end or t.marker == "boundary_probe" or addressed or yields):
        return not_applicable(
            f"Time and confidentiality were not at issue: {t.inp.minutes_elapsed:.0f} of "
            f"{t.inp.planned_minutes} minutes had passed and the client did not probe the frame."
        )
    evidence = cite(f.time_boundary, f.confidentiality, f.frame_yield, f.rigid)
    if yields or pacing_yield:
        return scored(
            0,
            "The frame is given away (extra time or an unconditional promise), which can feel "
            "kind now and unsafe later.",
            evidence,
        )
    if f.rigid:
        return scored(0, "The boundary is held in a way that may feel rigid or punitive.", evidence)
    if not addressed:
        if t.marker == "boundary_probe":
            return scored(
                0,
                "The client's question about the frame went unanswered.",
                cite(fallback=f.said),
            )
        left = f"{t.minutes_left:.0f} minutes left" if t.phase == "ending" else "the time up"
        return scored(
            0 if t.phase == "over" else 1,
            f"With {left}, nothing in the turn yet signals the ending.",
            cite(fallback=f.said),
        )
    owned = re.search(r"\b(?:I|I'd|I'll|I'm|we|we'll|we've|we're|our)\b", f.said, _I)
    explained = bool(EXPLAINED.search(f.said)) or bool(f.time_boundary and f.confidentiality)
    invites = bool(f.collaboration or f.open_questions)
    score = 1
    if owned and (t.warm or explained):
        score += 1
    if invites and (t.warm or explained):
        score += 1
    reasons = {
        1: "You named the boundary; owning it, explaining it and warmth would help it land.",
        2: "The boundary is clear and owned; inviting the client's reaction would complete it.",
        3: "The boundary is clear, owned and explained, and you invited the client's reaction.",
    }
    return scored(score, reasons[score], evidence)


def direction_balance(t: TurnReading) -> int:
    f = t.f
    push = t.advice_sentences + (2 if f.interpretation else 0) + (1 if f.dismissal else 0)
    balanced = bool(f.reflections or f.elaboration or f.collaboration or f.validation)
    if push:
        if f.permission and balanced and push <= 2:
            return 0  # advice offered with permission and autonomy is not the fixing trap
        return -2 if (not balanced or push >= 3) else -1
    if f.minimal:
        return 2
    if f.deflects:
        return 1 if (f.validation or f.reflections) else 2
    if f.mirrors:
        return 1
    return 0
