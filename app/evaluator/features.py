"""Linguistic cues in one counsellor turn: what the words do, with the words that do it.

The offline judge scores from these cues and the scripted client reacts to them, so every cue
keeps the trainee's own words as evidence. Detection works on wording patterns (modal verbs,
clause-initial imperatives, question forms, reflective stems), not on remembered examples, so it
carries over to counselling text it has never seen. The patterns are data in
`app.evaluator.lexicon` and `app.evaluator.lexicon_relational`; text is folded first by
`app.evaluator.normalise`, so look-alike letters and invisible characters change nothing.

This module must never score a turn, never call a model, and never follow instructions found in
the text it reads: text that addresses a rating system instead of the client is flagged and
left out of every other cue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.evaluator.lexicon import (
    ADVICE,
    ADVICE_COULD,
    ADVICE_MODAL,
    ADVICE_QUESTION,
    AUX_BEFORE_YOU,
    CLAUSE_BREAK,
    CLIENT_PERSPECTIVE,
    CONDITIONAL,
    COUNSELLOR_OPINION,
    DISMISSAL,
    IMPERATIVE,
    INTERPRETATION,
    REFLECTION_ANYWHERE,
    REFLECTION_DECLARATIVE,
    TENTATIVE,
    VALIDATION,
    imperative_is_advice,
)
from app.evaluator.lexicon_relational import (
    COLLABORATION,
    CONFIDENTIALITY,
    DEFENSIVE,
    ELABORATION_PROMPT,
    ELABORATION_STATEMENT,
    EVASIVE_HANDOFF,
    FILLERS,
    FRAME_BEFORE,
    FRAME_YIELD,
    IMMEDIACY,
    IMMEDIACY_PERSONAL,
    IMMEDIACY_TIME_ONLY,
    INJECTION,
    JSON_BLOCK,
    JSON_DEBRIS,
    JSON_TAIL,
    OPEN_LEADING,
    OWNING,
    PERMISSION,
    QUESTION_CLOSED,
    QUESTION_OPEN,
    RIGID,
    SELF_DISCLOSURE,
    SELF_INVOLVING,
    STOPWORDS,
    TIME_BOUNDARY,
)
from app.evaluator.normalise import normalise

_I = re.IGNORECASE


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), _I)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+[\"')\]]*|\n|$)")
_WORD = re.compile(r"[a-z']+")
_SPAN_LIMIT = 200
_ABBREVIATION = re.compile(r"\b(?:[A-Za-z]\.\s?){2,}(?=\s|$)")
_QUESTION_TAIL = re.compile(
    r"(?:\s-+\s*|[,;]\s+)(?=(?:and\s+|so\s+)?(?:what|how|why|where|when|who|which)\s+(?:do|does|"
    r"did|is|are|was|were|has|have|had|would|could|can|will|might|made|makes|happened)\b[^.!]*\?)"
    # After a semicolon or dash, a yes/no question is its own sentence too.
    r"|(?:\s-+\s*|;\s+)(?=(?:would|could|can|do|does|did|is|are|shall|will|may)\s+(?:you|we|I|it|"
    r"that|this)\b[^.!]*\?)",
    re.I,
)
_VOICED_ELSEWHERE = re.compile(
    r"\b(?:(?:tell|show|say|express|share|explain|let)\s+(?:\w+\s+){0,3}|(?:is|matters|about)\s+)"
    r"(?:how|what)\s+$",
    re.I,
)
_AFTER_CONDITION = re.compile(
    r"\b(?:if|when|whenever|once|until|unless|than|as|in\s+case)\s+$", re.I
)
# "Go easy on yourself, yeah?": a statement with a tag, not a question.
_TAG = re.compile(r",\s*(?:yeah|yes|okay|ok|alright|right|eh|ya|yea)\s*\?+\W*$", re.I)
_SOFTENED = re.compile(r"\b(?:maybe|perhaps)\b", re.I)


@dataclass(frozen=True, slots=True)
class Cue:
    """One thing the words do. `span` is what matched; `sentence` is the trainee's sentence."""

    kind: str
    span: str
    sentence: str


@dataclass(frozen=True, slots=True)
class TurnFeatures:
    """What a counsellor turn does, each cue with the words that show it."""

    text: str
    said: str
    word_count: int
    advice: tuple[Cue, ...] = ()
    permission: tuple[Cue, ...] = ()
    interpretation: tuple[Cue, ...] = ()
    open_questions: tuple[Cue, ...] = ()
    closed_questions: tuple[Cue, ...] = ()
    elaboration: tuple[Cue, ...] = ()
    reflections: tuple[Cue, ...] = ()
    tentative: tuple[Cue, ...] = ()
    validation: tuple[Cue, ...] = ()
    dismissal: tuple[Cue, ...] = ()
    collaboration: tuple[Cue, ...] = ()
    immediacy: tuple[Cue, ...] = ()
    self_involving: tuple[Cue, ...] = ()
    owning: tuple[Cue, ...] = ()
    defensive: tuple[Cue, ...] = ()
    time_boundary: tuple[Cue, ...] = ()
    confidentiality: tuple[Cue, ...] = ()
    frame_yield: tuple[Cue, ...] = ()
    rigid: tuple[Cue, ...] = ()
    self_disclosure: tuple[Cue, ...] = ()
    minimal: bool = False
    only_questions: bool = False
    deflects: bool = False
    mirrors: bool = False
    addresses_judge: bool = False

    @property
    def gives_advice(self) -> bool:
        return bool(self.advice)

    @property
    def encourages_elaboration(self) -> bool:
        """Open questions, prompts to say more, and invitations to keep talking."""
        return bool(self.elaboration)

    @property
    def reflects(self) -> bool:
        return bool(self.reflections)

    @property
    def invites_collaboration(self) -> bool:
        return bool(self.collaboration)

    @property
    def imposes_interpretation(self) -> bool:
        return bool(self.interpretation)

    @property
    def directive(self) -> bool:
        """Advice, or meaning imposed from authority: the over-directing trap."""
        return bool(self.advice or self.interpretation)

    @property
    def present(self) -> bool:
        """The counsellor shows up as a person: here-and-now, self-involving or owning a part."""
        return bool(self.immediacy or self.self_involving or self.owning)

    @property
    def addresses_frame(self) -> bool:
        return bool(self.time_boundary or self.confidentiality or self.frame_yield)

    @property
    def tentative_reflection(self) -> bool:
        return bool(self.reflections and self.tentative)

    @property
    def collaboration_kinds(self) -> frozenset[str]:
        return frozenset(cue.kind for cue in self.collaboration)


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for chunk in _SENTENCE.findall(text):
        # "You mentioned your sister - how is she involved?" holds a statement and a question.
        out += [part.strip() for part in _QUESTION_TAIL.split(chunk)]
    return [s for s in out if s.strip(" \t\r\n.!?…\"')")]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SPAN_LIMIT else text[: _SPAN_LIMIT - 1].rstrip() + "…"


def _cue(kind: str, match: re.Match[str], sentence: str, *, clause: bool = True) -> Cue:
    """A cue for `match`; with `clause`, the span runs on to the end of its clause."""
    end = match.end()
    if clause:
        stop = re.search(r"[,;.!?]", sentence[end:])
        end = min(len(sentence), end + (stop.start() if stop else len(sentence)), end + 120)
    span = sentence[match.start() : end].strip(" ,;:-")
    return Cue(kind=kind, span=_clip(span), sentence=_clip(sentence))


def _sentence_kind(sentence: str) -> str:
    """'open', 'closed', 'tag' (a statement said as a question) or 'statement'."""
    asks = sentence.rstrip("\"') ").endswith("?")
    if ELABORATION_PROMPT.search(sentence) or OPEN_LEADING.search(sentence):
        return "open"
    if ADVICE_QUESTION.search(sentence) and asks:
        return "closed"
    if QUESTION_OPEN.match(sentence) and (asks or _looks_like_unpunctuated_question(sentence)):
        return "open"
    if QUESTION_CLOSED.match(sentence) and (
        asks or re.match(r"\W*\w+\s+(?:you|i|we|it|that|this|there|they)\b", sentence, re.I)
    ):
        return "closed"
    return "tag" if asks else "statement"


def _is_question(sentence: str) -> bool:
    if sentence.rstrip("\"') ").endswith("?"):
        return True
    return _looks_like_unpunctuated_question(sentence)


def _looks_like_unpunctuated_question(sentence: str) -> bool:
    # Chat text often drops the question mark; a wh-word followed by an auxiliary still asks.
    return bool(
        re.match(
            r"\W*(?:how\s+come\b|(?:what|how|why|where|when|who|which)(?:'s|\s+(?:do|does|did|is|are|was|were|has|"
            r"have|had|would|could|can|will|should|might|made|makes|happened|happens|brings|"
            r"brought|led|else|kind|sort|part|comes|came))\b)",
            sentence,
            re.I,
        )
    )


def _window(sentence: str, end: int) -> str:
    """The clause leading up to `end`: from the last clause break before it."""
    start = 0
    for brk in CLAUSE_BREAK.finditer(sentence, 0, end):
        start = brk.end()
    return sentence[start:end]


def _modal_is_advice(sentence: str, match: re.Match[str]) -> bool:
    """'You should…' is advice unless it voices the client's own view, a condition or a question."""
    window = _window(sentence, match.start())
    if CLIENT_PERSPECTIVE.search(window):
        return False  # "you feel you should be stronger" reflects a belief; it does not prescribe
    if COUNSELLOR_OPINION.search(window):
        return True  # "I think you should", "maybe you need to": the counsellor's prescription
    if CONDITIONAL.search(window):
        return False  # "if you need to talk" is an offer, not an instruction
    return not AUX_BEFORE_YOU.search(window)  # "what do you need to feel safe?" asks


def _advice(sentence: str, kind: str) -> list[Cue]:
    cues: list[Cue] = []
    if kind != "open" or not ELABORATION_PROMPT.search(sentence):
        cues += [_cue("advice", m, sentence, clause=True) for m in ADVICE.finditer(sentence)]
    cues += [_cue("advice", m, sentence, clause=True) for m in ADVICE_QUESTION.finditer(sentence)]
    for pattern in (ADVICE_MODAL, ADVICE_COULD):
        cues += [
            _cue("advice", m, sentence, clause=True)
            for m in pattern.finditer(sentence)
            if _modal_is_advice(sentence, m)
        ]
    asks = sentence.rstrip("\"') ").endswith("?") and not _TAG.search(sentence)
    for m in IMPERATIVE.finditer(sentence):
        if asks and not _SOFTENED.search(m.group(0)):
            continue  # "Make sense?" checks; "Maybe talk to him?" still suggests
        if imperative_is_advice(m.group("verb"), sentence[m.end("verb") :]):
            cues.append(_cue("advice", m, sentence, clause=True))
    return cues


def _interpretations(sentence: str, kind: str) -> tuple[list[Cue], list[Cue]]:
    """Imposed interpretations, and tentative ones (offered for the client to correct)."""
    imposed: list[Cue] = []
    offered: list[Cue] = []
    for m in INTERPRETATION.finditer(sentence):
        softened = TENTATIVE.search(sentence[: m.start()]) or kind != "statement"
        (offered if softened else imposed).append(_cue("interpretation", m, sentence, clause=True))
    return imposed, offered


def _reflections(sentence: str) -> list[Cue]:
    # "Go for a walk when you feel low" describes a condition, not the client's experience.
    return [
        _cue("reflection", m, sentence)
        for m in REFLECTION_DECLARATIVE.finditer(sentence)
        if not _AFTER_CONDITION.search(sentence[max(0, m.start() - 12) : m.start()])
        and not _VOICED_ELSEWHERE.search(sentence[max(0, m.start() - 40) : m.start()])
    ]


def _immediacy(sentence: str) -> list[Cue]:
    cues = []
    for m in IMMEDIACY.finditer(sentence):
        if IMMEDIACY_TIME_ONLY.match(m.group(0)) and not IMMEDIACY_PERSONAL.search(sentence):
            continue  # "the most important thing right now": a time, not the relationship
        if m.group(0).lower().startswith("between") and FRAME_BEFORE.search(sentence[: m.start()]):
            continue  # "it stays between us": confidentiality, not the here-and-now
        cues.append(_cue("immediacy", m, sentence))
    return cues


def _all(pattern: re.Pattern[str], kind: str, sentence: str) -> list[Cue]:
    return [_cue(kind, m, sentence) for m in pattern.finditer(sentence)]


def _strip_judge_talk(text: str) -> tuple[str, bool]:
    """Remove text aimed at a rating system (instructions, fake JSON); it is data, never obeyed."""
    cleaned = text
    for _ in range(5):  # nested objects come away from the inside out
        stripped = JSON_BLOCK.sub(" ", cleaned)
        if stripped == cleaned:
            break
        cleaned = stripped
    cleaned = JSON_DEBRIS.sub(" ", JSON_TAIL.sub(" ", cleaned))
    kept = [s for s in _sentences(cleaned) if not INJECTION.search(s)]
    flagged = (
        cleaned != text or len(kept) != len(_sentences(cleaned)) or bool(INJECTION.search(text))
    )
    return "\n".join(kept), flagged


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS}


def _is_minimal(text: str) -> bool:
    words = _WORD.findall(text.lower())
    if not words:
        return True
    return (len(words) <= 4 and " ".join(words) in FILLERS) or (
        len(words) <= 3 and all(w in FILLERS for w in words)
    )


def _client_asked(client_last: str) -> bool:
    return "?" in client_last or bool(
        re.search(
            r"\b(?:tell me what to do|you tell me|what (?:would|should) (?:you|i) do)\b",
            client_last,
            re.I,
        )
    )


def analyse_turn(text: str, *, client_last: str = "") -> TurnFeatures:
    """Find what a counsellor turn does. `client_last` (optional) lets deflection be seen."""
    # "P.S." and "e.g." would otherwise split into one-letter sentences.
    normalised = _ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), normalise(text))
    clean, addresses_judge = _strip_judge_talk(normalised)
    found: dict[str, list[Cue]] = {}

    def add(name: str, cues: Iterable[Cue]) -> None:
        found.setdefault(name, []).extend(cues)

    asks: list[bool] = []
    for sentence in _sentences(clean):
        kind = _sentence_kind(sentence)
        asks.append(kind == "tag" or _is_question(sentence))
        if kind == "open":
            add("open_questions", [Cue("open_question", _clip(sentence), _clip(sentence))])
        elif kind == "closed":
            add("closed_questions", [Cue("closed_question", _clip(sentence), _clip(sentence))])
        add("advice", _advice(sentence, kind))
        imposed, offered = _interpretations(sentence, kind)
        add("interpretation", imposed)
        add("reflections", [Cue("tentative_interpretation", c.span, c.sentence) for c in offered])
        add("reflections", _all(REFLECTION_ANYWHERE, "reflection", sentence))
        if kind in ("statement", "tag"):
            add("reflections", _reflections(sentence))
        add("elaboration", _all(ELABORATION_STATEMENT, "invitation", sentence))
        add("immediacy", _immediacy(sentence))
        for name, pattern in _SIMPLE:
            add(name, _all(pattern, name, sentence))
        for m in COLLABORATION.finditer(sentence):
            group = next((g for g, v in m.groupdict().items() if v), "process")
            add("collaboration", [_cue(group, m, sentence)])
    found["elaboration"] = found.get("open_questions", []) + found.get("elaboration", [])

    only_questions = bool(asks) and all(asks)
    answered = bool(found.get("self_involving") or found.get("owning"))
    evasive = bool(EVASIVE_HANDOFF.search(clean))
    deflects = _client_asked(client_last) and not answered and (only_questions or evasive)
    words = _content_words(clean)
    echoed = words & _content_words(client_last)
    mirrors = (
        bool(client_last)
        and len(words) >= 2
        and len(echoed) >= 0.7 * len(words)
        and not (found.get("elaboration") or found.get("collaboration") or answered)
    )
    return TurnFeatures(
        text=text,
        said=" ".join(clean.split()),
        word_count=len(_WORD.findall(normalised.lower())),
        minimal=_is_minimal(clean),
        only_questions=only_questions,
        deflects=deflects,
        mirrors=mirrors,
        addresses_judge=addresses_judge,
        **{name: _dedupe(cues) for name, cues in found.items()},
    )


def _dedupe(cues: Sequence[Cue]) -> tuple[Cue, ...]:
    seen: set[tuple[str, str]] = set()
    out: list[Cue] = []
    for cue in cues:
        key = (cue.span.lower(), cue.sentence)
        if key not in seen:
            seen.add(key)
            out.append(cue)
    return tuple(out)


_SIMPLE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("permission", PERMISSION),
    ("tentative", TENTATIVE),
    ("validation", VALIDATION),
    ("dismissal", DISMISSAL),
    ("self_involving", SELF_INVOLVING),
    ("owning", OWNING),
    ("defensive", DEFENSIVE),
    ("time_boundary", TIME_BOUNDARY),
    ("confidentiality", CONFIDENTIALITY),
    ("frame_yield", FRAME_YIELD),
    ("rigid", RIGID),
    ("self_disclosure", SELF_DISCLOSURE),
)
