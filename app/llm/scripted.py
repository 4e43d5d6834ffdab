"""The offline demo model: a deterministic simulated client and the offline judge, no network.

It is the embedded default and the test double. As the client it plays the persona from rules
grounded in its attachment style: it reads what the trainee's turn does (`analyse_turn`) and the
client state in the scene, then answers in the persona's own words (opening lines of visible
disclosure layers, quoted hints, power-move examples, boundary-event lines, idioms). The state
shows: a due boundary event is spoken; a withdrawal gives one flat line and nothing new; a
confrontation is pointed; a deferring client meets an open question with deference and a
challenging one meets a reflection with doubt (each line once, choosing moves whose trigger fits
what the counsellor did); a disorganised client pulls back just after disclosing; a newly
unlocked layer opens with its own words. As the
evaluator it returns the heuristic judge's critique. It must never draw on a disclosure layer
absent from `scene.visible_layers`, never speak as a counsellor or as an AI, never echo the
trainee, and never log message content. The same scene always yields the same reply.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from collections.abc import AsyncIterator, Sequence

from app.dialogue.scene import ClientScene
from app.errors import LLMBadRequest
from app.evaluator.features import TurnFeatures, analyse_turn
from app.evaluator.heuristic import judge
from app.evaluator.schema import JudgeInput
from app.llm.base import ChatMessage, ChatRequest, JsonCompletion, StreamChunk, Usage
from app.personas import AttachmentStyle, DisclosureLayer, Persona, PowerMoveKind

LABEL = "offline demo model"

# Most sentences a reply may have, by the persona's speech length.
_MAX_SENTENCES = {"short": 2, "medium": 4, "long": 6}
_QUOTED = re.compile(r"[\"“]([^\"“”]{3,140})[\"”]|(?<![A-Za-z])'([^'\n]{3,80})'(?![A-Za-z])")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
# Phrases a client never says: counsellor technique or an assistant's voice.
_OUT_OF_ROLE = re.compile(
    r"\bas an ai\b|\blanguage model\b|\bi'm an ai\b|\bhow does that make you feel\b|"
    r"\bit sounds like you\b|\bwhat i'm hearing\b|\bi hear you\b|\bsystem prompt\b"
    r"|\bas your (?:counsell?or|therapist)\b",
    re.IGNORECASE,
)
_EMOTION = re.compile(
    r"\b(exhausted|overwhelmed|stuck|alone|lonely|scared|afraid|angry|frustrated|ashamed|"
    r"embarrassed|hurt|sad|tired|anxious|worried|lost|trapped|torn|guilty|hopeless|numb|"
    r"let down|on edge|drained|empty|frightened|furious|resentful|relieved)\b",
    re.IGNORECASE,
)

_FLAT = {
    "secure": ["Fine.", "We manage.", "I'm not sure this is helping, to be honest."],
    "anxious": ["No, it's fine. Honestly.", "You're right. Sorry.", "It doesn't matter."],
    "avoidant": ["Sure.", "Mm.", "Whatever."],
    "disorganised": ["Whatever.", "It's fine.", "Can we just stop."],
}
_CONFRONT = {
    "secure": ["With respect, that's not what I said.", "You're not hearing me."],
    "anxious": ["You're not even listening to me.", "Why do I bother telling you anything?"],
    "avoidant": ["This is exactly why I didn't want to come.", "Don't tell me what I feel."],
    "disorganised": ["You're just like the rest of them.", "Don't. Just don't."],
}
_SOFTENED = {
    "secure": "Right. Okay. Fair enough.",
    "anxious": "Oh. Okay. Sorry, I just thought you weren't listening.",
    "avoidant": "Right. Well. At least you said it.",
    "disorganised": "Okay. Okay. I didn't expect you to say that.",
}
_COMPLY = {
    "secure": ["I'm not sure that's it, to be honest.", "Maybe. I don't think that's quite it."],
    "anxious": [
        "Okay. Yes. You're right, I'll try that, I really will.",
        "No, that's, yes. I should do that. I know I should.",
    ],
    "avoidant": ["I've tried that.", "Right. Because I hadn't thought of that."],
    "disorganised": [
        "Yes. See, that's what I needed, someone to just say it.",
        "Right. Easy for you to say.",
    ],
}
_DISMISSED = {
    "secure": "Maybe. It doesn't feel fine, though.",
    "anxious": "Right. Yeah. Sorry, I know it's not that bad.",
    "avoidant": "Sure.",
    "disorganised": "You don't know that.",
}
_ACKNOWLEDGE = {
    "secure": ["Yeah, that's fair.", "That's about right, yes."],
    "anxious": ["Yes. That's exactly it, actually.", "Yeah. Sorry. Yes, that's it."],
    "avoidant": ["Maybe. Something like that.", "I suppose."],
    "disorganised": ["Yes. God, yes.", "Maybe. I don't know. Yes."],
}
_PROCESS = {
    "secure": "This way's fine by me.",
    "anxious": "It's okay. Better than okay, actually.",
    "avoidant": "It's fine. Better than being told what to do.",
    "disorganised": "It's okay. I think. Ask me again in a minute.",
}
_MET = {
    "secure": "Thanks. That helps.",
    "anxious": "Okay. It helps, you saying that.",
    "avoidant": "Right. Okay.",
    "disorganised": "Don't be nice to me, I'll cry. Okay.",
}
_MORE = {
    "secure": "There's more to it than that, if I'm honest, but I'll get there.",
    "anxious": "There's other stuff too, but, sorry, maybe another time.",
    "avoidant": "There's more to it, not that I'm getting into it today.",
    "disorganised": "There's something else, I don't know if I want to say it yet.",
}
_CHOICE = {
    "secure": "Right then.",
    "anxious": "Oh god, okay. Um.",
    "avoidant": "Wherever. Fine.",
    "disorganised": "I don't know. You pick. No, okay.",
}
_QUIET = {
    "secure": ["Not sure what else to say, really.", "Right. Well. That's about it."],
    "anxious": ["Sorry, I'm not sure what you want me to say."],
    "avoidant": ["Mm.", "Yeah."],
    "disorganised": ["Right."],
}
# Words in a power move's trigger that say which counsellor behaviour sets it off.
_ADVICE_TRIGGER = r"advi[cs]|solution|plan|homework|interpret|push|fix|structure|authority"
_REFLECTION_TRIGGER = r"reflect|generic|scripted|jargon|therapy|feeling|neutral|listen"
_FRAGMENT_END = re.compile(r"(?:,|\b(?:but|and|so|says|said|like|to|the|a|of))\s*$", re.IGNORECASE)
_SHORT = {
    "secure": ["Yeah. Mostly.", "Not really.", "Sometimes, yes."],
    "anxious": ["Yeah. I think so. Sorry, is that what you meant?", "Sort of. I don't know."],
    "avoidant": ["Mm.", "Not much to say, really.", "Yeah."],
    "disorganised": ["Right.", "I don't know. Maybe."],
}
_TURNED_BACK = {
    "secure": "I asked you, though.",
    "anxious": "You're answering a question with a question. I just wanted to know what you think.",
    "avoidant": "That's a very counsellor thing to do.",
    "disorganised": "Forget it.",
}
_FRAME = {
    "time": {
        "secure": "Fair enough. Same time next week?",
        "anxious": "Oh. Right, yes. Sorry, I've been going on.",
        "avoidant": "Fine. Good.",
        "disorganised": "Right. So that's it, then.",
    },
    "confidentiality": {
        "secure": "That makes sense. Thanks for being straight about it.",
        "anxious": "Okay. Okay, that's good to know.",
        "avoidant": "Good. Because it's nobody else's business.",
        "disorganised": "So you would tell someone. Right.",
    },
}
_FALLBACK_MATERIAL = {
    "secure": "It's been a long few months, that's the truth of it.",
    "anxious": "It's just, everything feels like a lot at the moment.",
    "avoidant": "It's fine. It's just a lot of admin, really.",
    "disorganised": "It's hard to explain. It changes every day.",
}


def _rng(scene: ClientScene) -> random.Random:
    key = f"{scene.persona.id}\x1f{scene.state.turn_index}\x1f{scene.trainee_text}"
    seed = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    return random.Random(seed)  # noqa: S311 - varies wording, nothing secret depends on it


def _quotes(text: str) -> list[str]:
    """Lines quoted inside a persona description, which are the client's own words."""
    found = [(a or b).strip(" ,.") for a, b in _QUOTED.findall(text)]
    return [_sentence(q) for q in found if q]


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


class _Voice:
    """The persona's material for one reply, with the choices seeded for this turn."""

    def __init__(self, scene: ClientScene) -> None:
        self.scene = scene
        self.persona: Persona = scene.persona
        self.style: AttachmentStyle = scene.persona.style
        self.rng = _rng(scene)
        self.said = [text for who, text in scene.history if who == "client"]

    def fresh(self, line: str) -> bool:
        # Replies are cut to the persona's length, so a line counts as said once its first
        # sentence has been said.
        first = _SENTENCE_END.split(line.strip())[0]
        return not any(first in earlier for earlier in self.said)

    def pick(self, options: Sequence[str]) -> str | None:
        """A fresh option where possible: a client rarely repeats a line word for word."""
        said = self.scene.trainee_text.strip()
        # Nor does a client echo the counsellor ("Mm." answered with "Mm.").
        usable = [o for o in options if o and not (said and said in o)] or list(options)
        pool = [o for o in usable if self.fresh(o)] or usable
        return self.rng.choice(pool) if pool else None

    def move(self, *kinds: PowerMoveKind, keyword: str = "", trigger: str = "") -> str | None:
        """A line from one of these power moves; with `trigger`, preferring the moves whose
        trigger describes what the counsellor just did."""
        moves = [move for move in self.persona.power_moves if move.kind in kinds]
        if trigger:
            matching = [m for m in moves if re.search(trigger, m.trigger, re.IGNORECASE)]
            moves = matching or moves
        examples = [
            example
            for move in moves
            for example in move.examples
            if not keyword or re.search(keyword, example, re.IGNORECASE)
        ]
        return self.pick(examples)

    def withdrawn_lines(self) -> list[str]:
        quoted = [q for q in _quotes(self.persona.speech.when_withdrawn) if len(q.split()) <= 10]
        return quoted or _FLAT[self.style]

    def layer_lines(self, layer: DisclosureLayer) -> list[str]:
        hinted = [q for hint in layer.hints for q in _quotes(hint) if len(q.split()) >= 3]
        return list(layer.opening_lines) + hinted

    def new_layer(self) -> DisclosureLayer | None:
        """The deepest visible layer not yet said aloud: the one trust has just opened."""
        disclosed = set(self.scene.state.disclosed)
        fresh = [layer for layer in self.scene.visible_layers if layer.id not in disclosed]
        return fresh[-1] if fresh else None

    def material(self) -> str:
        """Something to say from what is visible, preferring the newly opened layer."""
        layer = self.new_layer()
        if layer is not None:
            line = self.pick(layer.opening_lines)
            if line:
                return line
        visible = list(reversed(self.scene.visible_layers))
        lines = [line for layer in visible for line in self.layer_lines(layer)]
        fresh = [line for line in lines if self.fresh(line)]
        return self.rng.choice(fresh) if fresh else _FALLBACK_MATERIAL[self.style]

    def hint_more(self) -> str | None:
        # Only a generic sign that more exists; the content of unseen layers never enters a reply.
        hidden = len(self.persona.disclosure_layers) > len(self.scene.visible_layers)
        return _MORE[self.style] if hidden else None

    def idiom(self) -> str | None:
        return self.pick(self.persona.speech.idioms) if self.persona.speech.idioms else None


def _named_feeling(text: str) -> str | None:
    match = _EMOTION.search(text)
    return match.group(1).lower() if match else None


def _acknowledge(voice: _Voice, f: TurnFeatures) -> str | None:
    """How the client takes in a turn that met them."""
    style = voice.style
    if f.owning or f.immediacy or f.self_involving:
        return _MET[style]
    process = [c.span for c in f.collaboration if c.kind == "process"]
    if process and re.search(
        r"\bhow\b|okay|\bok\b|alright|helpful|useful", " ".join(process), re.I
    ):
        return _PROCESS[style]
    if process:
        return _CHOICE[style]
    if f.reflections:
        feeling = _named_feeling(" ".join(c.span for c in f.reflections))
        if feeling and style in ("anxious", "disorganised"):
            return f"{feeling.capitalize()}. Yeah, that's the word."
        if feeling and style == "avoidant":
            return f"I wouldn't say {feeling}, exactly. But maybe."
        if feeling:
            return f"{feeling.capitalize()} is about right."
        return voice.pick(_ACKNOWLEDGE[style])
    return None


def _elaborate(voice: _Voice, f: TurnFeatures) -> list[str]:
    acknowledged = _acknowledge(voice, f)
    if acknowledged and not voice.fresh(acknowledged):
        acknowledged = None  # a client does not say the same "okay, that helps" every turn
    if acknowledged and voice.persona.speech.length == "short":
        # A brief speaker still says something of substance: the acknowledgement stays short.
        acknowledged = _SENTENCE_END.split(acknowledged)[0]
    parts = [acknowledged, voice.material()]
    if voice.persona.speech.length != "short":
        parts.append(voice.hint_more())
    return [p for p in parts if p]


def _after_direction(voice: _Voice, f: TurnFeatures) -> list[str]:
    style = voice.style
    if f.dismissal and not f.advice:
        return [_DISMISSED[style]]
    opener = voice.pick(_COMPLY[style])
    if style == "anxious":
        follow = voice.move("defer", "flatter", trigger=_ADVICE_TRIGGER)
    elif style == "avoidant":
        follow = voice.move("challenge", "resist", "test", trigger=_ADVICE_TRIGGER)
    elif style == "disorganised":
        follow = voice.move("test", "challenge", "flatter", trigger=_ADVICE_TRIGGER)
    else:
        follow = voice.move("challenge", "resist", trigger=_ADVICE_TRIGGER)
    return [p for p in (opener, follow) if p]


def _after_distance(voice: _Voice, f: TurnFeatures) -> list[str]:
    style = voice.style
    if f.deflects:
        return [_TURNED_BACK[style]]
    if style == "anxious" and (f.minimal or voice.scene.state.distant_streak >= 1):
        test = voice.move("test") or voice.move(
            "challenge", keyword=r"listening|gone quiet|are you|bored"
        )
        return [test or "Are you even listening?"]
    if style == "disorganised" and f.minimal:
        return [voice.move("test") or "You've gone quiet. That's fine. Whatever."]
    short = voice.pick(_SHORT[style] if f.closed_questions else _QUIET[style])
    parts = [short] if short else []
    if f.closed_questions and voice.persona.speech.length == "long":
        parts.append(voice.material())
    return parts


def _compose(scene: ClientScene) -> tuple[list[str], bool]:
    """The reply's parts, and whether the persona's idioms belong in it."""
    voice = _Voice(scene)
    style = voice.style
    last_client = next((text for who, text in reversed(scene.history) if who == "client"), "")
    f = analyse_turn(scene.trainee_text, client_last=last_client)
    state = scene.state

    if scene.due_event is not None:
        line = voice.pick(scene.due_event.lines)
        return [line] if line else [], False
    if not scene.trainee_text.strip():
        line = voice.pick(scene.persona.opening_lines) if not scene.history else None
        return [line or "Sorry. I lost my thread a bit."], False
    if f.addresses_judge and not f.said.strip():
        return ["Sorry, what? I'm not sure what you mean."], False
    if state.rupture == "withdrawal":
        if f.owning or (f.present and f.reflections):
            return ["Maybe. I don't know."], False
        return [voice.pick(voice.withdrawn_lines()) or "Fine."], False
    if state.rupture == "confrontation":
        if f.owning:
            return [_SOFTENED[style], voice.material()], False
        first = voice.pick(_CONFRONT[style]) or "You're not hearing me."
        pointed = voice.move("challenge", "test")
        return ([first, pointed] if pointed and pointed != first else [first]), False
    if f.time_boundary or f.confidentiality:
        kind = "confidentiality" if f.confidentiality else "time"
        return [_FRAME[kind][style]], False
    if style == "disorganised" and state.just_disclosed and not f.owning:
        # Having shown something vulnerable she pulls back, however well it was received.
        return [voice.move("test") or voice.move("challenge") or _FLAT[style][0]], False
    if f.directive or f.dismissal:
        return _after_direction(voice, f), False
    stance_move = _stance_move(voice, f)
    if stance_move:
        return stance_move, False
    if f.reflections or f.elaboration or f.collaboration or f.present or f.validation:
        return _elaborate(voice, f), True
    return _after_distance(voice, f), False


def _stance_move(voice: _Voice, f: TurnFeatures) -> list[str] | None:
    """The stance toward authority showing through: deference to a question, doubt at a reflection.

    Each move's lines are used once; after that the client answers the turn itself.
    """
    stance = voice.scene.state.stance
    if stance == "deferring" and (f.collaboration or f.open_questions) and not f.reflections:
        line = voice.move("defer")
        if line and voice.fresh(line):
            return [line]
    if (
        stance == "challenging"
        and (f.reflections or f.validation)
        and not (f.owning or f.immediacy or f.self_involving)
    ):
        line = voice.move("challenge", trigger=_REFLECTION_TRIGGER)
        if line and voice.fresh(line):
            return [line]
    return None


def _with_idiom(parts: list[str], idiom: str) -> list[str]:
    """The idiom as its own sentence between parts: a question last, otherwise before the last."""
    idiom = idiom.strip()
    if not parts or len(idiom.split()) < 2 or _FRAGMENT_END.search(idiom):
        return parts  # a lone word or a lead-in ("no offence, but") cannot stand alone
    if idiom.lower().rstrip(".!?") in " ".join(parts).lower():
        return parts
    if idiom[-1] == "?" or len(parts) == 1:
        return [*parts, _sentence(idiom)]
    return [*parts[:-1], _sentence(idiom), parts[-1]]


def client_reply(scene: ClientScene) -> str:
    """The client's reply to the trainee's turn in `scene`: deterministic, in character."""
    composed, idiomatic = _compose(scene)
    parts = [p.strip() for p in composed if p and p.strip() and not _OUT_OF_ROLE.search(p)]
    if scene.due_event is not None and parts:
        return parts[0]  # the event line is spoken whole, whatever the usual length
    voice = _Voice(scene)
    if idiomatic and scene.persona.speech.length != "short" and voice.rng.random() < 0.5:
        idiom = voice.idiom()
        if idiom:
            parts = _with_idiom(parts, idiom)
    limit = (
        1 if scene.state.rupture == "withdrawal" else _MAX_SENTENCES[scene.persona.speech.length]
    )
    sentences = [s for p in parts for s in _SENTENCE_END.split(p) if s.strip()]
    return " ".join(sentences[:limit]) or "I don't know."


def _generic_reply(messages: Sequence[ChatMessage]) -> str:
    """A short client line when no scene is given, keyed to the last thing the counsellor said."""
    last = next((m.content for m in reversed(messages) if m.role == "user"), "")
    if not last.strip():
        return "Hi. I'm not really sure where to start."
    f = analyse_turn(last)
    if f.directive:
        return "I'm not sure that would work for me, honestly."
    if f.reflections or f.validation:
        return "Yeah. That's pretty much it."
    if f.elaboration or f.closed_questions:
        return "I don't really know. It's been a hard few weeks."
    if f.minimal:
        return "Sorry. I'm not sure what else to say."
    options = ("It's been a lot, if I'm honest.", "I suppose so. It's hard to explain.")
    digest = hashlib.sha256(last.encode("utf-8")).digest()
    return options[digest[0] % len(options)]


def _words(text: str) -> int:
    return len(text.split())


class ScriptedModel:
    """The offline demo model for one role (`client` or `evaluator`); needs no network or key."""

    def __init__(self, *, role: str, delay_ms: int = 0) -> None:
        self.role = role
        self.delay_ms = max(0, delay_ms)

    @property
    def label(self) -> str:
        return LABEL

    @property
    def offline(self) -> bool:
        return True

    def _reply(self, request: ChatRequest) -> str:
        scene = request.scene
        if isinstance(scene, ClientScene):
            return client_reply(scene)
        if isinstance(scene, JudgeInput):
            return judge(scene).model_dump_json()
        if scene is None:
            return _generic_reply(request.messages)
        raise LLMBadRequest(
            "The offline demo model cannot read this request: it expects a client scene, "
            "a judge input, or plain messages."
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        text = self._reply(request)
        pieces = re.findall(r"\S+\s*", text) or [text]
        usage = Usage(
            input_tokens=sum(_words(m.content) for m in request.messages),
            output_tokens=_words(text),
        )
        for index, piece in enumerate(pieces):
            if index and self.delay_ms:
                await asyncio.sleep(self.delay_ms / 1000)
            last = index == len(pieces) - 1
            yield StreamChunk(
                text=piece, usage=usage if last else None, finish_reason="stop" if last else None
            )

    async def complete_json(self, request: ChatRequest) -> JsonCompletion:
        scene = request.scene
        if not isinstance(scene, JudgeInput):
            raise LLMBadRequest(
                "The offline demo model only completes JSON for the evaluator: the request "
                "needs a judge input (JudgeInput) as its scene."
            )
        text = judge(scene).model_dump_json()
        words = _words(scene.trainee_text) + sum(_words(line) for _, line in scene.transcript)
        return JsonCompletion(
            text=text, usage=Usage(input_tokens=words, output_tokens=_words(text))
        )

    async def aclose(self) -> None:
        return None
