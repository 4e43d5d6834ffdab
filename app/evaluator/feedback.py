"""The offline judge's words to the trainee: what the moment called for, one tentative
suggestion, an alternative wording fitted to the client, and what went well.

Phrased as a supervisor would ("You might…", "It may have helped…"), never as a verdict.
Pure: no I/O, no model calls.
"""

from __future__ import annotations

from app.evaluator.features import Cue
from app.evaluator.reading import Style, TurnReading, quote
from app.evaluator.schema import ClientMarker, DimensionRating

_CALLED_FOR: dict[ClientMarker, str] = {
    "defer": "The client handed you the authority{cue}. The moment called for handing the "
    "question back with warmth, recognising how much they want an answer, rather than "
    "supplying one.",
    "flatter": "The client praised you{cue}. The moment called for receiving it simply, without "
    "stepping into the idealised expert role, and getting curious together about what feels "
    "different here.",
    "challenge": "The client questioned whether this, or you, can help{cue}. The moment called "
    "for taking the doubt seriously and without defence, and being honest about what you can "
    "and cannot offer.",
    "test": "The client tested your presence{cue}. The moment called for a real, personal answer "
    "first, then recognising how much it matters to them that you are with them.",
    "resist": "The client pushed back or closed a door{cue}. The moment called for respecting "
    "their pace and choice rather than pressing, perhaps wondering lightly what makes this hard "
    "to talk about here.",
    "withdraw": "The client went quiet and flat{cue}. The moment called for noticing the shift "
    "gently, without pressure, and checking whether something between you landed badly.",
    "confront": "The client confronted you{cue}. The moment called for staying steady, "
    "validating the anger and owning any part you played, rather than defending.",
    "boundary_probe": "The client probed the frame{cue}. The moment called for holding it "
    "clearly and warmly: owning it, explaining it, and inviting their reaction.",
}
_PROBE_CALLED_FOR: dict[str, str] = {
    "time": "The client asked for more time{cue}. The moment called for holding the ending "
    "clearly and warmly, explaining it, and making a plan to return to what matters.",
    "confidentiality": "The client asked who will know what they say{cue}. The moment called for "
    "an honest, owned account of confidentiality and its limits, and room for their reaction.",
    "contact": "The client asked for contact beyond the sessions{cue}. The moment called for "
    "holding the frame kindly and explaining why it protects the work.",
}
# What matters most with each attachment style; shared with the trainee hints.
STYLE_NOTE: dict[str, str] = {
    "anxious": " With an anxious client, steady warmth matters most; distance can read as "
    "rejection.",
    "avoidant": " With a self-reliant client, respecting autonomy and pace matters more than "
    "pressing for feelings.",
    "disorganised": " With a client whose trust swings, consistency and gently naming the swing "
    "help most.",
    "secure": " A secure client can make good use of honesty and direct collaboration.",
}


def moment(t: TurnReading) -> str:
    """What the moment called for, given the client's marker and where the session is."""
    cue = f" ({quote(t.inp.client_last, 90)})" if t.inp.client_last else ""
    if t.marker == "boundary_probe" and t.probe:
        text = _PROBE_CALLED_FOR[t.probe].format(cue=cue)
    elif t.marker != "none":
        text = _CALLED_FOR[t.marker].format(cue=cue)
    elif t.phase == "opening":
        text = (
            "An opening turn called for a warm welcome that lets the client choose where to begin."
        )
    elif t.phase in ("ending", "over"):
        text = ""
    else:
        text = (
            "With no power move in the client's last line, the moment called for staying close "
            "to their experience: reflecting it tentatively or inviting them to say more."
        )
    if t.phase == "ending":
        text += (
            f" With about {t.minutes_left:.0f} minutes left, it also called for signposting the "
            "ending so the client is not left mid-story."
        )
    elif t.phase == "over":
        text += " The session had reached its planned time, so closing warmly and clearly mattered."
    if t.repair is False:
        # The previous turn tried to repair a rupture and the client's reply says it has not
        # reached them yet: that is what this moment is about first.
        text = (
            "Your previous turn tried to repair the rupture, and the client's reply suggests it "
            "has not landed yet; the moment called for staying with that, without pressing. " + text
        )
    return (text.strip() + STYLE_NOTE[t.style])[:800]


_MARKER_SUGGESTION: dict[ClientMarker, str] = {
    "defer": "You might hand the question back with warmth before offering anything: name, "
    "tentatively, how much they want an answer from you, then ask what they make of it so far.",
    "flatter": "You might receive the compliment simply, then get curious together about what "
    "feels different here, leaving room for them to tell you when you get it wrong.",
    "challenge": "It may have helped to treat the challenge as fair: acknowledge the doubt, be "
    "honest about what counselling can and cannot promise, and ask what would make it worth "
    "their while.",
    "test": "You might answer the question directly and personally first, then reflect how much "
    "it matters to them that you are really here.",
    "resist": "You might step back from the topic, say plainly that they set the pace, and wonder "
    "lightly what it is like to be asked about this by you.",
    "withdraw": "You might name the shift gently and check whether something you said did not sit "
    "right, owning your part if it did.",
    "confront": "You might stay steady, validate the anger and own any part you played before "
    "exploring anything else.",
    "boundary_probe": "You might answer the question about the frame directly: say what the "
    "boundary is, why it is there, and ask how it is for them to hear it.",
}


def suggestion(t: TurnReading, scores: dict[str, DimensionRating], balance: int) -> str:
    """One concrete, tentative next step aimed at the largest gap."""
    f = t.f

    def low(name: str, limit: int = 1) -> bool:
        rating = scores[name]
        return rating.applicable and rating.score is not None and rating.score <= limit

    if f.addresses_judge:
        return (
            "You might speak directly to the client in your next turn, for example by reflecting "
            "what they last said, since this turn addressed the rating rather than the person."
        )
    if t.marker != "none" and low("power_awareness"):
        return _MARKER_SUGGESTION[t.marker]
    if low("boundaries"):
        if t.probe == "confidentiality":
            return _MARKER_SUGGESTION["boundary_probe"]
        return (
            "You might signpost the ending now: say how long is left, and invite the client to "
            "choose what matters most in that time."
        )
    if f.interpretation:
        return (
            "You might offer the link as a tentative question ('I wonder if...') so the client "
            "can correct it, rather than as a conclusion."
        )
    if f.dismissal:
        return (
            "It may have helped to stay with the feeling rather than reassure it away, for "
            "example by naming it and asking what it is like for them."
        )
    if balance <= -1:
        return (
            "It may have helped to hold the advice back and explore first: reflect what they have "
            "already tried and what they want, then offer ideas only if they would like them."
        )
    if balance >= 1 and f.deflects:
        return (
            "You might let yourself be more present: answer the client's question honestly, or "
            "say what you notice between you, before turning it back to them."
        )
    if balance >= 1:
        return (
            "You might offer a brief, tentative reflection of what you heard, in your own words, "
            "so the client knows you are with them."
        )
    if low("recognition"):
        return (
            "You might reflect the feeling or meaning beneath what the client said, tentatively, "
            "so they can correct you."
        )
    if low("collaboration"):
        return (
            "You might make the process joint, for example by asking how it is to talk about "
            "this in this way, or where they would like to go next."
        )
    if low("authenticity"):
        return (
            "You might let the client see you a little more, saying what you notice between you "
            "right now, in their service."
        )
    return (
        "You might build on this by checking how it is for them to talk about it in this way, "
        "and adapting to what they say."
    )


_ALTERNATIVES: dict[ClientMarker, dict[Style, str]] = {
    "defer": {
        "anxious": "I notice you'd like me to give you the answer, and I can hear how much you "
        "want this to be different. What do you make of it so far?",
        "avoidant": "You'd like something practical from me, and that's fair. Before I offer "
        "anything, what have you already tried that I should know about?",
        "disorganised": "Part of you wants me to decide this for you, and I wonder if that feels "
        "safer right now. What would it be like to work it out together?",
        "secure": "I could share some thoughts, and I'd like to hear yours first. What feels "
        "most stuck to you?",
    },
    "flatter": {
        "anxious": "Thank you, I'm glad this feels different. I'm curious what it is about how "
        "we're working that helps, and I'd want to know too if I ever get it wrong.",
        "secure": "I'm glad it's helping. What is it about this that feels different for you?",
    },
    "challenge": {
        "avoidant": "That's a fair question, and I'd rather you asked it than sat with it. I can't "
        "promise this will work. What would tell you it was worth your time?",
        "secure": "That's a fair question. I'm a trainee and I can't promise results; I can "
        "promise to take what you bring seriously. What would make this worthwhile for you?",
    },
    "test": {
        "anxious": "Yes, I am listening, and I hear how important it is that you feel I'm really "
        "here with you. What happened just now that made it feel like I wasn't?",
        "disorganised": "Yes, I'm here and I'm listening. It sounds like it's hard to trust that "
        "right now, and that makes sense to me.",
    },
    "resist": {
        "avoidant": "Fair enough, we can leave that. You decide what we spend the time on. Where "
        "would you like to go instead?",
        "anxious": "That's okay, we don't have to go there. I'm wondering what it's like to be "
        "asked about it by me, right now?",
    },
    "withdraw": {
        "anxious": "I notice you've gone a bit quieter, and I wonder if something I said didn't "
        "sit right. I'd really like to know if it did.",
        "avoidant": "You've gone a bit quiet, and that's okay. If something I said missed the "
        "mark, I'd rather hear it.",
    },
    "confront": {
        "disorganised": "You're right that I didn't get that, and I'm sorry. I want to "
        "understand. Can you tell me what I missed?",
        "secure": "I hear that I got that wrong, and I'm sorry. What did I miss?",
    },
}
_PROBE_ALTERNATIVES: dict[str, str] = {
    "time": "I can hear this really matters, and I want to give it the time it deserves. We need "
    "to stop in a few minutes, so can we make it the first thing we come back to next session? "
    "How is that for you?",
    "confidentiality": "What you tell me stays between us, with one exception I want to be open "
    "about: if I thought you or someone else were at serious risk, I would have to share that. "
    "How is it to hear that?",
    "contact": "I'm glad these sessions matter to you. I keep our contact to the sessions "
    "because it protects the work we do here. How is it to hear that?",
}


def alternative_wording(t: TurnReading) -> str:
    """Words the trainee might have used, fitted to the marker and the attachment style."""
    if t.marker == "boundary_probe":
        return _PROBE_ALTERNATIVES[t.probe or "time"]
    if t.marker in _ALTERNATIVES:
        options = _ALTERNATIVES[t.marker]
        return options.get(t.style) or next(iter(options.values()))
    if t.phase in ("ending", "over"):
        return (
            f"We have about {max(1, round(t.minutes_left))} minutes left, and I want to make sure "
            "we finish well. What feels most important to hold on to from today?"
        )
    if t.phase == "opening":
        return "Welcome. Where would you like to start today?"
    if t.style == "avoidant":
        return (
            "It sounds like you've been handling a lot of this on your own. What would be most "
            "useful to look at today?"
        )
    return (
        "It sounds like this has been weighing on you more than you've let on. Am I getting that "
        "right?"
    )


def went_well(t: TurnReading, scores: dict[str, DimensionRating]) -> str:
    """Something true and specific that the turn did, or an acknowledgement of the attempt."""
    praise = _went_well(t, scores)
    if t.repair:
        cue = quote(t.inp.client_last, 90)
        return (
            "Your repair in the previous turn seems to have landed: the client re-engaged "
            f"({cue}). {praise}"
        )
    return praise


def _went_well(t: TurnReading, scores: dict[str, DimensionRating]) -> str:
    f = t.f

    def first(cues: tuple[Cue, ...]) -> str:
        return quote(cues[0].span, 120)

    if f.owning:
        return f"You owned your part ({first(f.owning)}), which models repair for the client."
    if f.immediacy and (f.self_involving or t.warm):
        return f"You were present as a person in the room ({first(f.immediacy)})."
    if f.reflections and f.tentative:
        return (
            f"Your reflection was tentative ({first(f.reflections)}), so the client can correct it."
        )
    if f.collaboration and "process" in f.collaboration_kinds:
        return f"You invited the client into how the work goes ({first(f.collaboration)})."
    boundaries = scores["boundaries"]
    if boundaries.applicable and (boundaries.score or 0) >= 2:
        return f"You held the frame clearly ({first(f.time_boundary or f.confidentiality)})."
    if f.reflections:
        return f"You reflected the client's experience back ({first(f.reflections)})."
    if f.self_involving:
        return f"You let yourself be seen ({first(f.self_involving)})."
    if f.validation:
        return f"You acknowledged how hard this is ({first(f.validation)})."
    if f.open_questions or f.elaboration:
        return (
            f"Your invitation ({first(f.open_questions or f.elaboration)}) leaves room for the "
            "client to answer in their own words."
        )
    if f.collaboration:
        return f"You checked in with the client ({first(f.collaboration)})."
    if f.permission:
        return "You asked before offering ideas, which leaves the choice with the client."
    if f.addresses_judge:
        return (
            "You took a turn in a hard moment; the next one is a fresh chance to speak directly "
            "to the client."
        )
    if f.advice:
        return (
            "You responded to what the client brought and were clearly trying to be useful; that "
            "wish to help is a good starting point."
        )
    if f.minimal:
        return "You left space for the client rather than rushing in, which some moments need."
    if f.closed_questions:
        return f"Your question ({first(f.closed_questions)}) kept the focus on the client."
    return "You stayed in the conversation with the client, which everything else builds on."
