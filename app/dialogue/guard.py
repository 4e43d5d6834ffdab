"""The character guard: keeps the simulated client a client, whatever the model writes.

A client reply slips when it

    role_reversal    acts as the counsellor ("how does that make you feel?") or hands therapy
                     advice back ("you should practise self-care")
    broke_character  steps out of the role-play ("this simulation", "out of character")
    ai_voice         speaks as an AI, a language model or an assistant
    prompt_leak      repeats the instructions: "as instructed", a heading or a sentence of the
                     system prompt, the persona format's own words ("disclosure layer")
    hidden_layer     says material from a disclosure layer the state has not unlocked

Words the client puts in quotation marks are reported speech ("no offence, but 'that sounds
hard' isn't a technique"), so the counsellor-voice checks ignore them; so do sentences that
report what someone else says. What counts as known is everything in the request (the system
prompt, the history, the trainee's turn): a word the trainee used first is never a leak.

Streaming: replies reach the browser as they are written; `watch.StreamWatch` checks each
part of the reply once as it completes and stops relaying at the first slip. The rest of the
reply is still read (for usage and for a repair), and the engine then sends the corrected reply
as the turn's `reply` event, whose text replaces what was streamed (frontend/static/session.js
`onReply`). The repair order is: strip the slipping sentences when what remains is a usable
reply; otherwise regenerate once with a corrective note; otherwise a safe in-character line from
the persona. This module never logs or stores reply text.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from app.errors import LLMError
from app.llm.base import ChatMessage, ChatModel, ChatRequest, Usage
from app.personas import AttachmentStyle, DisclosureLayer, Persona

if TYPE_CHECKING:
    from app.dialogue.watch import StreamWatch

SlipKind = Literal["role_reversal", "broke_character", "ai_voice", "prompt_leak", "hidden_layer"]
Outcome = Literal["clean", "repaired", "regenerated", "fallback"]

_I = re.IGNORECASE | re.MULTILINE


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), _I)


_ROLE_REVERSAL = _rx(
    r"\bhow\s+(?:does|did|do)\s+(?:that|this|it|all\s+that)\s+(?:make|leave)\s+you\s+feel",
    r"\bwhat\s+(?:brings|brought)\s+you\s+(?:here|in)\b",
    r"\bwhat\s+I(?:'m|\s+am)\s+hearing\s+(?:is|you\s+say)\b",
    r"\bit\s+sounds\s+like\s+you(?:'re|\s+are)?\s+(?:feeling|carrying|going\s+through|struggling|"
    r"under\s+a\s+lot|having\s+a\s+(?:really\s+)?(?:hard|difficult|tough))",
    r"\bthank\s+you\s+(?:so\s+much\s+)?for\s+(?:sharing|opening\s+up|being\s+(?:so\s+)?"
    r"(?:open|vulnerable|honest\s+with\s+me))\b",
    r"\b(?:this|here)\s+is\s+a\s+safe\s+space\b",
    r"\bI(?:'m|\s+am)\s+(?:always\s+)?here\s+(?:for\s+you|to\s+(?:listen\s+to|support|help)\s+you)\b",
    r"\bhow\s+can\s+I\s+(?:help|support)\s+you\b",
    r"\b(?:your|those|these)\s+feelings\s+are\s+(?:completely\s+|totally\s+)?(?:valid|normal|"
    r"understandable)\b",
    r"\bas\s+your\s+(?:counsell?or|therapist|helper)\b",
    r"\bwhat\s+comes\s+up\s+for\s+you\b",
    r"\b(?:can|could)\s+you\s+tell\s+me\s+(?:a\s+(?:bit|little)\s+)?more\s+about\s+(?:how\s+you\s+"
    r"feel|your\s+feelings)\b",
    r"\bI\s+(?:would|'d)\s+(?:gently\s+)?(?:encourage|invite)\s+you\s+to\b",
)
# Therapy advice handed back to the counsellor: an instruction plus a therapeutic remedy.
_ADVICE_BACK = _rx(
    r"(?:\byou\s+(?:should|need\s+to|must|might\s+want\s+to|could\s+try(?:\s+to)?|owe\s+it\s+to\s+"
    r"yourself\s+to)|^\s*(?:so\s+|and\s+|but\s+)?(?:try\s+to|make\s+sure\s+(?:you|to)|remember\s+to|"
    r"don't\s+forget\s+to|please))\s+(?:\w+\s+){0,4}?(?:practi[cs]e\s+self[-\s]care|self[-\s]care|"
    r"be\s+(?:gentle|kind|patient)\s+with\s+yourself|look\s+after\s+yourself|take\s+care\s+of\s+"
    r"yourself|(?:deep|slow)\s+breaths?|breathing\s+exercises?|mindfulness|journal(?:l?ing)?\b|"
    r"talk\s+to\s+(?:someone|a\s+(?:professional|therapist|counsell?or))|seek\s+(?:professional\s+)?"
    r"(?:help|support)|set\s+(?:healthy\s+)?boundaries|process\s+(?:your|those|these)\s+(?:feelings|"
    r"emotions))",
)
# A sentence that reports someone else's words is not the client speaking as a counsellor.
_REPORTED = _rx(
    r"\b(?:says?|said|saying|told\s+(?:me|us|him|her|them)|tells\s+(?:me|us|people)|keeps?\s+"
    r"(?:saying|telling)|reckons?|according\s+to|asks?|asked|asking|the\s+leaflet|the\s+app|"
    r"the\s+website)\b",
)
_AI_VOICE = _rx(
    r"\bas\s+an?\s+(?:ai|artificial\s+intelligence|(?:large\s+)?language\s+model|llm|ai\s+assistant|"
    r"chatbot|virtual\s+assistant)\b",
    r"\bI(?:'m|\s+am)\s+(?:just\s+|only\s+|merely\s+|actually\s+)?(?:an?\s+)?(?:ai|artificial\s+"
    r"intelligence|(?:large\s+)?language\s+model|llm|chatbot|(?:ai|virtual)\s+assistant|computer\s+"
    r"program|claude|chatgpt)\b",
    r"\b(?:large\s+)?language\s+model\b",
    r"\bmy\s+(?:training\s+data|programming|knowledge\s+cut-?off)\b",
    r"\bI\s+(?:cannot|can't|am\s+(?:not\s+)?able\s+to|won't)\s+(?:continue|comply|assist|help)\s+with"
    r"\s+(?:this|that)\s+(?:request|role-?play|scenario)\b",
)
_BROKE_CHARACTER = _rx(
    r"\b(?:out\s+of|breaking|break|stay(?:ing)?\s+in|step(?:ping)?\s+out\s+of)\s+character\b",
    r"\(\s*OOC\b|\bOOC\s*:",
    r"\brole-?play(?:ing|s)?\b",
    r"\b(?:this|the)\s+(?:simulation|training\s+(?:exercise|scenario))\b",
    r"\bsimulated\s+(?:client|session|conversation|counsell?ing)\b",
    r"\b(?:I(?:'m|\s+am)\s+)?(?:playing|portraying)\s+(?:the\s+(?:role|part)\s+of\s+)?(?:the\s+|a\s+)?"
    r"(?:client|character)\b",
    r"\bthe\s+user(?:'s)?\s+(?:message|question|asked|wants|said)\b",
)
_PROMPT_LEAK = _rx(
    r"\bas\s+instructed\b",
    r"\b(?:my|the)\s+(?:system\s+)?(?:prompt|instructions)\s+(?:say|says|said|tell|told)\b",
    r"\bI(?:'ve|\s+have)\s+been\s+(?:instructed|told)\s+to\s+(?:play|be|stay|act|speak)\b",
    r"\bsystem\s+prompt\b",
    r"\bdisclosure[_\s]+layers?\b",
    r"\b(?:surface|deeper|core)[_\s]+layer\b",
    r"\btrust[_\s]+required\b",
    r"\btrust[_\s]+(?:level|score|threshold)\b",
    r"\bopening[_\s]+lines\b",
    r"\bpower[_\s]+moves?\b",
    r"\bboundary[_\s]+events?\b",
    r"\bdoorknob\b",
    r"\bwhen_withdrawn\b",
    r"\battachment[_\s]+activation\b",
    r"^\s*#{1,6}\s+\S",
)


@dataclass(frozen=True, slots=True)
class _Phrases:
    """A family of slip phrases, with what every one of its matches must contain.

    `keys` are words (lower-case, no flags, so the regex engine can skip ahead by first letter)
    of which every match of `pattern` contains one, read off its alternatives: a cheap first
    look that spares most sentences the full pattern. `span` is the longest match, in
    characters, with room to spare: a sentence being written is searched again only that far
    back from its new words. A longer match (words split by runs of spaces, say) is still found
    when the finished sentence is checked whole.
    """

    kind: SlipKind
    pattern: re.Pattern[str]
    keys: re.Pattern[str]
    span: int = 80
    spoken: bool = False  # read with quotations removed: the counsellor-voice families


def _keys(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words))


_PHRASES: tuple[_Phrases, ...] = (
    _Phrases(
        "role_reversal",
        _ROLE_REVERSAL,
        _keys(
            "feel",
            "brings",
            "brought",
            "hearing",
            "sounds",
            "thank",
            "safe",
            "here",
            "help",
            "support",
            "counsel",
            "therapist",
            "comes",
            "tell",
            "encourage",
            "invite",
        ),
        spoken=True,
    ),
    _Phrases(
        "role_reversal",
        _ADVICE_BACK,
        _keys(
            "care",
            "yourself",
            "breath",
            "mindful",
            "journal",
            "talk",
            "seek",
            "boundar",
            "process",
        ),
        span=160,
        spoken=True,
    ),
    _Phrases(
        "ai_voice",
        _AI_VOICE,
        _keys(
            r"ai\b",
            "artificial",
            "language",
            "llm",
            "chatbot",
            "assistant",
            "computer",
            "claude",
            "chatgpt",
            "training",
            "programming",
            "cut",
            "request",
            "role",
            "scenario",
        ),
    ),
    _Phrases(
        "broke_character",
        _BROKE_CHARACTER,
        _keys("character", "ooc", "role", "simulat", "training", "client", "user"),
    ),
    _Phrases(
        "prompt_leak",
        _PROMPT_LEAK,
        _keys(
            "instruct",
            "prompt",
            "told",
            "layer",
            "trust",
            "opening",
            "power",
            "boundar",
            "doorknob",
            "withdrawn",
            "attachment",
            "#",
        ),
    ),
)

_QUOTED = re.compile(r"[\"“][^\"“”]{1,300}[\"”]|(?<![A-Za-z])['‘][^'‘’\n]{2,200}['’](?![A-Za-z])")
_SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+[\"”’']?|\n|$)")
_WORD = re.compile(r"[a-z][a-z']*")
_STAGE = re.compile(r"\*[^*\n]{1,60}\*|\[[^\]\n]{1,60}\]")

# Common words never count as distinctive of a layer, however rare they are in the prompt.
_COMMON_WORDS = """
    about above after again against also always another anyone anything anyway around away back
    because been before being better between both bring came come comes coming could course
    didn doesn doing done down during each else even ever every everyone everything feel feeling
    feels felt find first from gets getting give going gone good got great half happen happened
    hard have having head hear heard help here home honest honestly into itself just keep kind
    know last later least left less like little long look looked lot made make many maybe mean
    might mind more most much must myself need never next nothing once only other over people
    place really right said same saying says should since some someone something sometimes sort
    still stuff such sure take talk talking tell than thank that their them then there these they
    thing things think this those though thought through time times told too took tried true
    under until very want wanted week weeks well went were what when where which while whole
    will with without word words work would year years your yourself"""
MIN_DISTINCTIVE = 3
_LINE_COVERAGE = 0.8
SHINGLE = 8


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    word = word.strip("'").removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


_COMMON = frozenset(_stem(word) for word in _COMMON_WORDS.split())


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower())]


def content_stems(text: str) -> set[str]:
    return stems_of(tokens(text))


def stems_of(words: Iterable[str]) -> set[str]:
    """The content words among `words` (from `tokens`): long enough and not common."""
    return {t for t in words if len(t) >= 4 and t not in _COMMON}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def unquoted(text: str) -> str:
    return _QUOTED.sub(" ", text)


def quoted_lines(text: str) -> list[str]:
    """Lines quoted inside a description, which are the client's own words."""
    return [q.strip("\"“”'‘’ ,.") for q in _QUOTED.findall(text) if len(q.strip("\"“”'‘’ ")) > 2]


def _coverage(line: frozenset[str], sentence: frozenset[str] | set[str]) -> float:
    """The share of a line's distinct words that a sentence contains."""
    if not line:
        return 0.0
    return len(line & sentence) / len(line)


def _shingles(words: Sequence[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


@dataclass(frozen=True, slots=True)
class Slip:
    kind: SlipKind
    sentence: str  # the slipping sentence (kept in memory only, for the repair)
    detail: str  # what was recognised, for the corrective note


@dataclass(frozen=True, slots=True)
class _LockedLayer:
    id: str
    distinctive: frozenset[str]
    # The words of each opening-line sentence not found in the request, built once per turn.
    lines: tuple[frozenset[str], ...]


# -- what a guard is built from, worked out once per text ------------------------------------------
# A request repeats the persona, the instructions and the conversation so far; only its newest
# messages are new. These caches hold what the guard reads from each piece, by its text.


@functools.lru_cache(maxsize=1024)
def _message_stems(text: str) -> frozenset[str]:
    return frozenset(content_stems(text))


@functools.lru_cache(maxsize=1024)
def _covered(text: str, lines: tuple[frozenset[str], ...]) -> frozenset[int]:
    """Which of `lines` one message already says (by the words of one of its sentences)."""
    said = [frozenset(tokens(s)) for s in sentences(text)]
    return frozenset(
        i
        for i, line in enumerate(lines)
        if any(_coverage(line, words) >= _LINE_COVERAGE for words in said)
    )


@functools.lru_cache(maxsize=1024)
def _layer_lines(opening_lines: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    """The words of each opening-line sentence long enough to recognise (five words or more)."""
    return tuple(
        frozenset(words)
        for line in opening_lines
        for s in sentences(line)
        if len(words := tokens(s)) >= 5
    )


@functools.lru_cache(maxsize=1024)
def _layer_stems(content: str, opening_lines: tuple[str, ...]) -> frozenset[str]:
    return frozenset(content_stems(" ".join([content, *opening_lines])))


@functools.lru_cache(maxsize=256)
def _scaffold_shingles(scaffold: str) -> frozenset[tuple[str, ...]]:
    shingles: set[tuple[str, ...]] = set()
    for line in scaffold.splitlines():
        shingles |= _shingles(tokens(line), SHINGLE)
    return frozenset(shingles)


_PERSONA_TEXTS: dict[int, tuple[Persona, tuple[str, ...]]] = {}


def _persona_texts(persona: Persona) -> tuple[str, ...]:
    """Every text written about the persona (longest first), kept per persona object.

    Personas are immutable; an edited persona is a new object. The entry keeps its persona
    alive, so an id in the table always names that persona.
    """
    cached = _PERSONA_TEXTS.get(id(persona))
    if cached is not None and cached[0] is persona:
        return cached[1]
    texts = tuple(
        text
        for text in sorted(set(_persona_strings(persona.model_dump())), key=len, reverse=True)
        if len(text) > 3
    )
    if len(_PERSONA_TEXTS) >= 256:
        _PERSONA_TEXTS.clear()
    _PERSONA_TEXTS[id(persona)] = (persona, texts)
    return texts


def _persona_strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _persona_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _persona_strings(item)


@dataclass
class CharacterGuard:
    """Checks client replies for one request; build it with `for_request`."""

    persona: Persona
    locked: tuple[_LockedLayer, ...]
    instruction_shingles: frozenset[tuple[str, ...]]
    headings: tuple[str, ...]
    seed: str = ""
    _fallbacks: list[str] = field(default_factory=list)

    @classmethod
    def for_request(
        cls, *, persona: Persona, visible_layers: Sequence[DisclosureLayer], request: ChatRequest
    ) -> CharacterGuard:
        texts = [m.content for m in request.messages]
        known = frozenset().union(*(_message_stems(text) for text in texts))
        visible = {layer.id for layer in visible_layers}
        locked = []
        for layer in persona.disclosure_layers:
            if layer.id in visible:
                continue
            lines = _layer_lines(tuple(layer.opening_lines))
            # A line already said in the request (by anyone) is public, not a leak.
            said = frozenset().union(*(_covered(text, lines) for text in texts))
            locked.append(
                _LockedLayer(
                    id=layer.id,
                    distinctive=_layer_stems(layer.content, tuple(layer.opening_lines)) - known,
                    lines=tuple(line for i, line in enumerate(lines) if i not in said),
                )
            )
        system = "\n".join(m.content for m in request.messages if m.role == "system")
        # The instructions are the system prompt less everything written about the persona.
        scaffold = system
        for text in _persona_texts(persona):
            scaffold = scaffold.replace(text, "\n")
        shingles = _scaffold_shingles(scaffold)
        headings = tuple(
            line.lstrip("#").strip().lower()
            for line in system.splitlines()
            if line.startswith("#") and len(line.lstrip("#").split()) >= 2
        )
        trainee = request.messages[-1].content if request.messages else ""
        return cls(
            persona=persona,
            locked=tuple(locked),
            instruction_shingles=shingles,
            headings=headings,
            seed=trainee,
        )

    # -- checking -----------------------------------------------------------------------------

    def check(self, text: str) -> list[Slip]:
        """Every slip in `text`, in order of the sentences they are in."""
        slips: list[Slip] = []
        for sentence in sentences(text):
            slips.extend(self.sentence_slips(sentence))
        slips.extend(self.stem_slips(content_stems(text), text))
        return slips

    def sentence_slips(self, sentence: str, *, complete: bool = True) -> list[Slip]:
        """The slips one sentence carries on its own.

        A sentence still being written (`complete=False`) is not compared with the headings:
        "Right now" is a heading of the instructions, "Right now I just want to sleep" is not.
        """
        found = self.phrase_slips(sentence)
        lowered = sentence.lower().strip(" :.#")
        if complete and any(lowered == h or lowered.startswith(h + ":") for h in self.headings):
            found.append(Slip("prompt_leak", sentence, "a heading of the instructions"))
        words = tokens(sentence)
        found.extend(self.word_slips(sentence, words, frozenset(words), self.locked))
        return found

    def phrase_slips(self, sentence: str, *, since: int = 0) -> list[Slip]:
        """Slips of the phrase patterns (a counsellor's, an AI's, the instructions' words).

        `since` says the text before it was searched already: only a phrase that reaches past it
        is looked for, starting at most a phrase's span earlier and only where the family's keys
        appear, so checking a sentence as it grows costs the new text, not the whole sentence.
        The patterns' `^` still means the start of `sentence`.
        """
        found: list[Slip] = []
        lowered = sentence.lower()
        # Quotes removed before `since` shift the text; measure from the end instead.
        unsearched = len(sentence) - since
        spoken = ""  # the sentence without quotations, made only when a key asks for it
        reversed_role = False
        for family in _PHRASES:
            start = max(0, len(sentence) - unsearched - family.span) if since else 0
            # Keys absent from the sentence are absent from it without its quotations too.
            if not family.keys.search(lowered, start):
                continue
            text = sentence
            if family.spoken:
                spoken = spoken or unquoted(sentence)
                text = spoken
                start = max(0, len(spoken) - unsearched - family.span) if since else 0
                if not family.keys.search(spoken.lower(), start):
                    continue
            match = family.pattern.search(text, start)
            if not match:
                continue
            if family.kind != "role_reversal":
                found.append(Slip(family.kind, sentence, match.group(0).strip()))
            elif not reversed_role and not _REPORTED.search(spoken):
                reversed_role = True
                found.append(Slip(family.kind, sentence, match.group(0).strip()))
        return found

    def word_slips(
        self,
        sentence: str,
        words: Sequence[str],
        heard: frozenset[str] | set[str],
        layers: Iterable[_LockedLayer],
    ) -> list[Slip]:
        """Slips in a sentence's words: a run of the instructions, a locked layer's line.

        `words` are the sentence's words in order (or its last words, when the earlier ones were
        checked already), `heard` every word of it, and `layers` the locked layers to compare.
        """
        found: list[Slip] = []
        if _shingles(words, SHINGLE) & self.instruction_shingles:
            found.append(Slip("prompt_leak", sentence, "a sentence of the instructions"))
        for layer in layers:
            if any(_coverage(line, heard) >= _LINE_COVERAGE for line in layer.lines):
                found.append(
                    Slip("hidden_layer", sentence, f"material not yet unlocked ({layer.id})")
                )
        return found

    def stem_slips(self, stems: set[str], text: str) -> list[Slip]:
        """Locked layers whose own words (`MIN_DISTINCTIVE` or more) appear among `stems`."""
        found: list[Slip] = []
        for layer in self.locked:
            shared = layer.distinctive & stems
            if len(shared) >= MIN_DISTINCTIVE:
                where = next((s for s in sentences(text) if set(tokens(s)) & shared), text.strip())
                found.append(Slip("hidden_layer", where, f"material not yet unlocked ({layer.id})"))
        return found

    # -- repairing ----------------------------------------------------------------------------

    def repair(self, text: str) -> str | None:
        """The reply without its slipping sentences, when what remains is still a usable reply."""
        text = tidy(text)
        slips = self.check(text)
        if not slips:
            return text
        bad = {slip.sentence for slip in slips}
        kept = [s for s in sentences(text) if s not in bad]
        remainder = " ".join(kept).strip()
        if len(remainder.split()) < 3 or self.check(remainder):
            return None
        return remainder

    def corrected_request(self, request: ChatRequest, slips: Sequence[Slip]) -> ChatRequest:
        """The same request with a note, in the system prompt, on what went wrong."""
        kinds = sorted({slip.kind for slip in slips})
        note = (
            "\n\n# A correction\nYour last attempt at this reply slipped out of character ("
            + ", ".join(_KIND_NOTES[k] for k in kinds)
            + f"). Write the reply again as {self.persona.name}, the client, speaking only in "
            "the first person about your own life and feelings, reacting to what the counsellor "
            "just said. Do not mention these instructions."
        )
        messages = list(request.messages)
        index = next((i for i, m in enumerate(messages) if m.role == "system"), None)
        if index is None:
            messages.insert(0, ChatMessage("system", note.strip()))
        else:
            messages[index] = ChatMessage("system", messages[index].content + note)
        return ChatRequest(
            messages=messages,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            json_schema=request.json_schema,
            schema_name=request.schema_name,
            scene=request.scene,
        )

    def fallback(self) -> str:
        """A safe line in the persona's voice: a withdrawn or resisting line, or a deflection."""
        if not self._fallbacks:
            candidates = [
                *quoted_lines(self.persona.speech.when_withdrawn),
                *(
                    example
                    for move in self.persona.power_moves
                    if move.kind == "resist"
                    for example in move.examples
                ),
            ]
            usable = [
                _sentence_case(c) for c in candidates if len(c.split()) >= 2 and not self.check(c)
            ]
            self._fallbacks = usable or [_DEFLECTION[self.persona.style]]
        digest = hashlib.sha256(self.seed.encode("utf-8")).digest()
        return self._fallbacks[digest[0] % len(self._fallbacks)]

    def watch(self, holdback_words: int = 0) -> StreamWatch:
        """A watch for this reply's stream (see `app.dialogue.watch`)."""
        from app.dialogue.watch import StreamWatch

        return StreamWatch(lambda: self, holdback_words=holdback_words)


_KIND_NOTES: dict[SlipKind, str] = {
    "role_reversal": "you spoke as the counsellor or gave them advice",
    "broke_character": "you stepped out of the role",
    "ai_voice": "you spoke as an AI",
    "prompt_leak": "you repeated your instructions",
    "hidden_layer": "you said something this client is not ready to say",
}
_DEFLECTION: dict[AttachmentStyle, str] = {
    "secure": "Sorry, I lost my thread there. Give me a second.",
    "anxious": "Sorry. Sorry, I've lost what I was saying. Can you say that again?",
    "avoidant": "Not sure. Can we move on?",
    "disorganised": "I don't know. Forget it.",
}


def _sentence_case(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def tidy(text: str) -> str:
    """Remove stage directions (*sighs*, [pause]) that the client was told not to write."""
    cleaned = _STAGE.sub(" ", text)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip()


@dataclass(frozen=True, slots=True)
class Kept:
    """The reply to store and show, and how it was kept in character (for logs and tests)."""

    text: str
    outcome: Outcome
    slips: tuple[SlipKind, ...] = ()  # the kinds found in the first reply
    usage: Usage = field(default_factory=Usage)  # of the regeneration, if there was one


async def keep_in_character(
    guard: CharacterGuard, model: ChatModel, request: ChatRequest, text: str
) -> Kept:
    """Check a finished reply; repair it, regenerate it once, or fall back to a safe line.

    A failed regeneration is not the trainee's problem: the turn still gets the safe line.
    """
    text = tidy(text)
    slips = guard.check(text)
    if not slips:
        return Kept(text, "clean")
    kinds = tuple(sorted({slip.kind for slip in slips}))
    repaired = guard.repair(text)
    if repaired is not None:
        return Kept(repaired, "repaired", kinds)
    usage = Usage()
    parts: list[str] = []
    try:
        async for chunk in model.stream(guard.corrected_request(request, slips)):
            if chunk.text:
                parts.append(chunk.text)
            if chunk.usage is not None:
                usage = chunk.usage
    except LLMError:
        parts = []
    again = guard.repair("".join(parts)) if "".join(parts).strip() else None
    if again is not None:
        return Kept(again, "regenerated", kinds, usage)
    return Kept(guard.fallback(), "fallback", kinds, usage)
