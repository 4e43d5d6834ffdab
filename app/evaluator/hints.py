"""A short hint for the moment a trainee is in, from the offline judge's reading of the client's
last line. It looks forward ("you might…") where a critique looks back, and it never quotes the
transcript, so it is safe to show even when critiques are hidden until the end."""

from __future__ import annotations

from dataclasses import dataclass

from app.evaluator.feedback import STYLE_NOTE
from app.evaluator.markers import client_markers, probe_kind
from app.evaluator.schema import ClientMarker

_MARKER_HINTS: dict[ClientMarker, str] = {
    "defer": "The client is handing you the authority. Rather than answering for them, you "
    "might notice aloud how much they want an answer from you, and ask what they make of it.",
    "flatter": "The client is praising you. You might receive it simply, then get curious "
    "together about what feels different here, without stepping into the expert's role.",
    "challenge": "The client doubts that this, or you, can help. You might take the doubt "
    "seriously and without defence, and be honest about what you can and cannot offer.",
    "test": "The client is testing whether you are really with them. A brief, real answer in "
    "your own voice may matter more here than a technique.",
    "resist": "The client is closing a door. You might step back, say that they set the pace, "
    "and wonder lightly what makes this hard to talk about here.",
    "withdraw": "The client has gone quiet. You might name the shift gently and check whether "
    "something between you did not sit right, owning your part if it did.",
    "confront": "The client is angry with you. You might stay steady, validate the anger and "
    "own any part you played before exploring anything else.",
    "boundary_probe": "The client is probing the frame. You might hold it clearly and warmly: "
    "say what the boundary is, why it is there, and ask how it is to hear.",
}
_PROBE_HINTS: dict[str, str] = {
    "time": "The client is asking for more time. You might hold the ending warmly, explain it, "
    "and agree together how to return to what matters next time.",
    "confidentiality": "The client is asking who will know what they say. An honest, owned "
    "account of confidentiality and its limits, with room for their reaction, may help.",
    "contact": "The client is asking for contact outside the sessions. You might hold the frame "
    "kindly and explain why it protects the work.",
}
_OPENING = (
    "This is the start. A warm welcome that lets the client choose where to begin, and some "
    "curiosity about how it is for them to be here, usually serves best."
)
_MIDDLE = (
    "No particular move toward you stands out in the client's last line. You might stay close "
    "to their experience: reflect it tentatively, or invite them to say more."
)
_ENDING = " Time is nearly up: you might signpost the ending so the client is not left mid-story."
_OVER = " The planned time has passed: closing warmly and clearly matters now."


@dataclass(frozen=True, slots=True)
class Hint:
    text: str
    marker: ClientMarker


def hint_for(
    client_line: str,
    *,
    style: str,
    trainee_has_spoken: bool,
    minutes_elapsed: float,
    planned_minutes: int,
) -> Hint:
    """What the current moment may call for, in two or three sentences."""
    markers = client_markers(client_line)
    marker: ClientMarker = markers[0] if markers else "none"
    probe = probe_kind(client_line) if marker == "boundary_probe" else ""
    if probe:
        text = _PROBE_HINTS[probe]
    elif marker != "none":
        text = _MARKER_HINTS[marker]
    elif not trainee_has_spoken:
        text = _OPENING
    else:
        text = _MIDDLE
    if planned_minutes > 0 and trainee_has_spoken:
        left = planned_minutes - minutes_elapsed
        if left <= 0:
            text += _OVER
        elif left <= max(5.0, planned_minutes * 0.1):
            text += _ENDING
    return Hint(text=text + STYLE_NOTE.get(style, ""), marker=marker)
