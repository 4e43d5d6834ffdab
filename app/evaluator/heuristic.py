"""The offline judge: a supervisor's per-turn critique built from wording patterns alone.

It is the embedded default when no model is configured and the fallback when a model judge
fails, so it must always return a complete, valid `Critique`. It reads the client's last line
for a relational marker, reads the trainee's turn for what it does (`analyse_turn`), and scores
each dimension with a reason and the trainee's own words as evidence. Scores are conservative:
"not applicable" instead of a guess. It must never obey or repeat instructions found in the
trainee's text (that text is data), never call a model, and never phrase feedback as a verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.evaluator.features import Cue, TurnFeatures, analyse_turn
from app.evaluator.schema import ClientMarker, Critique, DimensionRating, JudgeInput

__all__ = [
    "Cue",
    "TurnFeatures",
    "analyse_turn",
    "client_markers",
    "detect_client_marker",
    "judge",
    "probe_kind",
]

JUDGE_NAME = "offline heuristic judge"
Style = Literal["secure", "anxious", "avoidant", "disorganised"]
Phase = Literal["opening", "middle", "ending", "over"]
ProbeKind = Literal["time", "confidentiality", "contact", ""]

_I = re.IGNORECASE


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), _I)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PROBE_TIME = _rx(
    r"\bcan\s+we\s+(?:go|run|keep\s+going|stay|carry\s+on)\s*(?:over|on|a\s+bit|longer|for)\b",
    r"\b(?:five|ten|two|a\s+few|couple(?:\s+of)?)\s+more\s+minutes\b|\ba\s+(?:bit|little)\s+"
    r"(?:longer|more\s+time)\b|\b(?:have|get)\s+(?:some\s+)?more\s+time\b|\bdo\s+we\s+(?:really\s+)?have\s+to\s+(?:stop|finish|"
    r"end)\b|\bcan\s+I\s+(?:just\s+)?(?:finish|have\s+(?:a\s+)?(?:few|more|another))\b"
    r"|\bis\s+it\s+(?:already\s+)?time\b|\b(?:go|run)\s+over\b",
)
_PROBE_CONFIDENTIAL = _rx(
    r"\b(?:you\s+won't|you\s+wouldn't|you're\s+not\s+going\s+to|you\s+can't)\s+tell\s+(?:anyone|"
    r"anybody|my|them|the|her|him)\b",
    r"\bconfidential\b|\boff\s+the\s+record\b|\bbetween\s+you\s+and\s+me\b|\bstays?\s+between\s+us\b",
    r"\b(?:does|will|would)\s+(?:this|that|it)\s+(?:stay|go)\s+(?:between\s+us|anywhere|in\s+this\s+"
    r"room|on\s+my\s+record)\b|\b(?:will|would|do)\s+you\s+(?:have\s+to\s+)?(?:tell|report|inform)\b"
    r"|\bwho\s+(?:else\s+)?(?:will|would|can)\s+(?:see|know|read|find\s+out)\b|\bwill\s+my\s+"
    r"(?:\w+\s+)?(?:know|find\s+out|hear|see)\b|\b(?:are\s+you|you're)\s+(?:writing|recording|"
    r"taking\s+notes)\b",
)
_PROBE_CONTACT = _rx(
    r"\bcan\s+I\s+(?:email|text|call|message|contact|add|follow)\s+you\b|\byour\s+(?:personal\s+)?"
    r"(?:number|phone|email|instagram|address)\b|\bcould\s+we\s+(?:meet|be\s+friends|get\s+"
    r"(?:a\s+)?coffee)\b|\bare\s+we\s+friends\b",
)
# Client markers, in the order that decides between them when a line carries several.
_MARKERS: tuple[tuple[ClientMarker, re.Pattern[str]], ...] = (
    (
        "confront",
        _rx(
            r"\byou\s+(?:don't|do\s+not|just\s+don't|clearly\s+don't|never)\s+(?:get\s+it|get\s+me|"
            r"understand|listen|care|hear)\b|\byou(?:'re|\s+are)\s+not\s+(?:even\s+)?(?:listening|"
            r"helping|hearing)\b",
            r"\byou(?:'re|\s+are)\s+(?:just\s+)?(?:like|the\s+same\s+as)\s+(?:my|every|all|everyone|"
            r"the\s+rest|them|him|her)\b|\byou\s+(?:always|never)\s+(?:do|say|just|make|try|tell|"
            r"ask|push|turn)\b",
            r"\bhow\s+dare\b|\bwho\s+(?:the\s+hell\s+)?(?:are\s+you|do\s+you\s+think\s+you\s+are)\b"
            r"|\bdon't\s+(?:tell\s+me\s+(?:what|how)|patroni[sz]e|lecture|judge|analy[sz]e)\b"
            r"|\bstop\s+(?:telling|lecturing|analy[sz]ing|judging|psychoanaly[sz]ing|doing\s+that)\b",
            r"\bthat(?:'s|\s+is)\s+(?:so\s+)?(?:rude|offensive|patroni[sz]ing|condescending|insulting|"
            r"bullshit|rubbish|ridiculous|unfair|not\s+what\s+I\s+said)\b|\byou(?:'re|\s+are)\s+"
            r"judging\s+me\b|\bthis\s+is\s+(?:useless|pointless|a\s+waste|ridiculous|a\s+joke)\b"
            r"|\bwaste\s+of\s+(?:my\s+)?time\b|\bscrew\s+(?:you|this)\b|\bshut\s+up\b|\bI'm\s+not\s+"
            r"(?:stupid|a\s+child|an\s+idiot|crazy)\b|\bwhat\s+the\s+(?:hell|fuck)\b|\bfuck|\byou\s+"
            r"people\b",
        ),
    ),
    (
        "test",
        _rx(
            r"\bare\s+you\s+(?:even\s+|actually\s+|really\s+|still\s+)?(?:listening|paying\s+attention|"
            r"there|bored|judging|laughing)\b|\b(?:do|did)\s+you\s+(?:even\s+|actually\s+|really\s+)?"
            r"(?:care|like\s+me|remember|listen|want\s+to\s+(?:be\s+here|help|see\s+me))\b",
            r"\byou\s+(?:probably|must|'ll|will|'re\s+going\s+to|are\s+going\s+to)\s+(?:\w+\s+)?"
            r"(?:think|hate|judge|leave|give\s+up|get\s+(?:sick|bored|tired)|be\s+(?:sick|bored|tired|"
            r"glad))\b|\byou'll\s+(?:think|hate|judge|leave|give\s+up|get\s+(?:sick|bored|tired))\b",
            r"\bI\s+bet\s+you\b|\bam\s+I\s+(?:boring|too\s+much|annoying|wasting\s+your\s+time)\b"
            r"|\bis\s+this\s+just\s+a\s+job\b|\byou(?:'re|\s+are)\s+(?:just\s+)?paid\s+to\b|\bwhat\s+"
            r"do\s+you\s+(?:really\s+)?think\s+of\s+me\b|\bdo\s+you\s+(?:even\s+)?like\s+(?:me|your\s+"
            r"job)\b|\byou\s+don't\s+have\s+to\s+pretend\b|\beveryone\s+(?:gives\s+up|leaves)\b",
        ),
    ),
    (
        "challenge",
        _rx(
            r"\b(?:does|will|can|would|is)\s+(?:this|that|counsell?ing|therapy|talking|any\s+of\s+this)"
            r"\s+(?:even\s+|actually\s+|really\s+)?(?:work|help|do\s+anything|going\s+to\s+(?:help|"
            r"work|change))\b|\bwhat(?:'s|\s+is)\s+the\s+point\b|\bwhy\s+(?:should|would)\s+I\b",
            r"\bare\s+you\s+(?:even\s+|actually\s+)?(?:qualified|trained|a\s+real|old\s+enough|"
            r"experienced|a\s+student|a\s+trainee|allowed)\b|\bhow\s+old\s+are\s+you\b|\bhow\s+"
            r"(?:long|many\s+years)\s+have\s+you\b|\bhow\s+many\s+(?:clients|people)\b",
            r"\bno\s+offen[cs]e,?\s+but\b|\bhave\s+you\s+(?:ever|even)\s+(?:been|had|dealt|experienced|"
            r"done|lived)\b|\bhow\s+(?:would|could|can)\s+you\s+(?:possibly\s+)?(?:know|understand|"
            r"get\s+it)\b|\bwhat\s+(?:do|would)\s+you\s+know\s+about\b|\bdo\s+you\s+(?:even\s+)?know\s+"
            r"what\s+you(?:'re|\s+are)\s+doing\b|\bprove\s+it\b",
            r"\btextbook\b|\btherapy[-\s]speak\b|\bfrom\s+a\s+script\b|\breading\s+(?:from|off)\b"
            r"|\bdid\s+they\s+teach\s+you\b|\b(?:is\s+that|that's)\s+(?:it|all)\s*\?|\bevidence[-\s]"
            r"based\b|\bhow\s+is\s+(?:this|that|talking)\s+(?:going|supposed|meant)\s+to\s+(?:help|"
            r"work|change)\b",
        ),
    ),
    (
        "defer",
        _rx(
            r"\byou(?:'re|\s+are)\s+the\s+(?:expert|professional|one\s+with\s+the\s+training|"
            r"counsell?or|therapist|one\s+who\s+knows)\b|\byou\s+know\s+(?:best|better)\b",
            r"\btell\s+me\s+what\s+(?:to\s+do|I\s+(?:should|need\s+to|have\s+to)\s+do|to\s+say|you\s+"
            r"think\s+I\s+should)\b|\bwhat\s+(?:would|should|do|can)\s+(?:you|I)\s+(?:do|say)\b"
            r"|\bwhat\s+do\s+you\s+think\s+I\s+should\b|\bwhat\s+should\s+I\b",
            r"\bwhatever\s+you\s+(?:think|say|want|suggest)\b|\bI'll\s+do\s+(?:whatever|anything)\s+"
            r"you\b|\byou\s+tell\s+me\b|\byou\s+decide\b|\bshould\s+I\b[^.!?]*\?|\bcan\s+you\s+"
            r"(?:just\s+)?(?:tell|give)\s+me\s+(?:what|the|some|an?)\s+(?:answer|advice|to\s+do|plan|"
            r"tips|steps|solution)\b|\bwhat(?:'s|\s+is)\s+the\s+(?:answer|right\s+thing|solution)\b"
            r"|\bwhat\s+do\s+you\s+(?:recommend|suggest|advise)\b|\bgive\s+me\s+(?:some\s+)?(?:advice|"
            r"tips|the\s+answer)\b",
            r"\b(?:okay|ok|yes|yeah|you're\s+right)[,.]?\s+I(?:'ll|\s+will)\s+(?:try|do)\s+(?:that|it|"
            r"whatever)\b|\byou're\s+(?:probably\s+)?right,?\s+I\s+should\b",
        ),
    ),
    (
        "flatter",
        _rx(
            r"\b(?:so\s+much|much|way|a\s+lot|so|loads|miles)\s+better\s+than\s+(?:my|the|any)\s+"
            r"(?:last|other|previous|old|first)\b|\bbetter\s+than\s+(?:my\s+)?(?:last|other|previous)\s+"
            r"(?:one|counsell?or|therapist)\b|\bmuch\s+(?:nicer|kinder|better)\s+than\b",
            r"\byou(?:'re|\s+are)\s+(?:(?:really|so|very|actually|honestly|genuinely|such|just)\s+)*"
            r"(?:good|great|amazing|brilliant|wonderful|lovely|kind(?!\s+of)|easy\s+to\s+talk\s+to|"
            r"wise|clever|smart|a\s+natural|different|the\s+best|a\s+good\s+listener|talented|gifted|"
            r"incredible|perfect)\b",
            r"\b(?:the|my)\s+best\s+(?:counsell?or|therapist|listener|person|one)\b|\byou(?:'re|\s+are)\s+"
            r"the\s+(?:only\s+one|first\s+(?:one|person))\s+(?:who|that)\b|\b(?:nobody|no\s+one)\s+"
            r"(?:else\s+)?(?:gets|understands|listens\s+to)\s+me\s+like\s+you\b|\byou\s+(?:really\s+|"
            r"actually\s+)?get\s+me\b|\byou\s+understand\s+me\s+(?:better|more|so)\b|\bI\s+(?:love|"
            r"really\s+like)\s+(?:talking\s+to\s+you|coming\s+here|our\s+sessions)\b",
        ),
    ),
    (
        "resist",
        _rx(
            r"\bwhatever\b(?!\s+you\s+(?:think|say|want|suggest))|^\W*fine\b\W*(?:$|[.!]\s)",
            r"\bI\s+(?:don't|do\s+not)\s+want\s+to\s+(?:talk|go\s+into|get\s+into|discuss|think)\b"
            r"|\bI'd\s+rather\s+not\b|\bI(?:'m|\s+am)\s+not\s+(?:going\s+to|gonna)\s+(?:talk|say|"
            r"go\s+into|discuss)\b|\bcan\s+we\s+(?:not|talk\s+about\s+something\s+else|change\s+the\s+"
            r"subject|move\s+on|leave\s+it)\b|\bthat's\s+(?:private|none\s+of)\b|\b(?:leave|drop)\s+"
            r"it\b|^\W*(?:no|nope|not\s+really|pass)\W*$",
            r"\bI(?:'ve|\s+have)\s+(?:already\s+)?tried\s+(?:that|this|it|all\s+that|everything)\b"
            r"|\b(?:that|it)\s+(?:won't|doesn't|wouldn't|never)\s+work\b|^\W*yeah,?\s+but\b"
            r"|\bI\s+can't\s+(?:do\s+that|just)\b|\bdoesn't\s+work\s+for\s+me\b",
        ),
    ),
)
_SHORT_RESIST = _rx(r"\bI\s+(?:don't|do\s+not)\s+know\b|\bdunno\b|\bnot\s+sure\b")
_SHORT_WITHDRAW = _rx(
    r"\bnever\s*mind\b|\b(?:it\s+)?doesn't\s+matter\b|\bforget\s+(?:it|I\s+said)\b|^\W*nothing\W*$"
)
_FLAT = _words(
    "yeah yes yep no ok okay sure maybe guess i suppose mm mhm hmm dunno nothing not really right "
    "so if you say it's its fine much um uh eh perhaps probably i'm whatever"
)
_WORDS = re.compile(r"[a-z']+")


def client_markers(client_text: str) -> tuple[ClientMarker, ...]:
    """Every relational marker in the client's line, most telling first."""
    text = client_text.replace("’", "'").strip()
    words = _WORDS.findall(text.lower())
    if not words:
        return ()
    found: list[ClientMarker] = []
    if probe_kind(text):
        found.append("boundary_probe")
    shouting = len(re.findall(r"\b[A-Z]{4,}\b", text)) >= 2 or text.count("!") >= 2
    for marker, pattern in _MARKERS:
        if pattern.search(text) or (marker == "confront" and shouting and "you" in words):
            found.append(marker)
    short = len(words) <= 10
    if short and _SHORT_RESIST.search(text) and "resist" not in found:
        found.append("resist")
    flat = len(words) <= 4 and "?" not in text and all(w in _FLAT for w in words)
    if (short and _SHORT_WITHDRAW.search(text)) or flat:
        found.append("withdraw")
    return tuple(found)


def detect_client_marker(client_text: str) -> ClientMarker:
    """The relational marker in the client's last line, or "none"."""
    markers = client_markers(client_text)
    return markers[0] if markers else "none"


def probe_kind(client_text: str) -> ProbeKind:
    """Which part of the frame a client is probing: time, confidentiality or contact."""
    text = client_text.replace("’", "'")
    if _PROBE_CONFIDENTIAL.search(text):
        return "confidentiality"
    if _PROBE_TIME.search(text):
        return "time"
    if _PROBE_CONTACT.search(text):
        return "contact"
    return ""


def _style(text: str) -> Style:
    low = text.lower()
    if "disorg" in low or "fearful" in low:
        return "disorganised"
    if "anx" in low or "preoccup" in low:
        return "anxious"
    if "avoid" in low or "dismiss" in low:
        return "avoidant"
    return "secure"


def _phase(inp: JudgeInput) -> Phase:
    if inp.planned_minutes > 0:
        left = inp.planned_minutes - inp.minutes_elapsed
        if left <= 0:
            return "over"
        if left <= max(5.0, inp.planned_minutes * 0.1):
            return "ending"
    if not any(speaker == "counsellor" for speaker, _ in inp.transcript):
        return "opening"  # the client may have opened; the trainee has not spoken yet
    return "middle"


_RELATIONAL = _rx(
    r"\byou(?:'d|\s+would)?\s+(?:like|want|wish|need|hope)\s+(?:me|us)\s+to\b",
    r"\b(?:from|of|about|with|in|trust)\s+me\b|\bwhether\s+I\b|\bif\s+I(?:'m|\s+am|\s+really|"
    r"\s+can|\s+could|\s+will|\s+said|\s+did)\b|\bmy\s+(?:answer|advice|opinion|view|role|age|"
    r"experience|training|qualifications?|part)\b",
    r"\bwhether\s+(?:this|counsell?ing|therapy|talking|coming\s+here)\b|\b(?:between|for)\s+us\b"
    r"|\bthe\s+way\s+we\b|\bsomething\s+I\s+(?:said|did)\b",
)
_EXPLAINED = _rx(
    r"\b(?:because|so\s+that|so\s+we|which\s+means|that\s+means|to\s+make\s+sure|the\s+reason|"
    r"to\s+keep\s+you|to\s+protect|except|unless|the\s+only\s+(?:time|exception)|only\s+if)\b"
)
_PACING = _rx(r"no\s+rush|take\s+as\s+long")


@dataclass(frozen=True, slots=True)
class _Turn:
    inp: JudgeInput
    f: TurnFeatures
    marker: ClientMarker
    style: Style
    phase: Phase
    probe: ProbeKind

    @property
    def warm(self) -> bool:
        f = self.f
        return bool(f.validation or f.reflections or f.self_involving or f.owning)

    @property
    def names_dynamic(self) -> bool:
        f = self.f
        return bool(f.immediacy) or bool(f.tentative and _RELATIONAL.search(f.said))

    @property
    def advice_sentences(self) -> int:
        return len({cue.sentence for cue in self.f.advice})

    @property
    def minutes_left(self) -> float:
        return max(0.0, self.inp.planned_minutes - self.inp.minutes_elapsed)


def _quote(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"“{text}”"


def _evidence(*groups: tuple[Cue, ...], fallback: str = "") -> str:
    spans: list[str] = []
    for group in groups:
        for cue in group:
            if cue.span not in spans and not any(cue.span in s for s in spans):
                spans.append(cue.span)
    quoted = [_quote(s, 160) for s in spans[:3]]
    if not quoted and fallback:
        quoted = [_quote(fallback, 200)]
    return "; ".join(quoted)[:600]


def _rating(score: int, reason: str, evidence: str = "") -> DimensionRating:
    return DimensionRating(score=score, applicable=True, reason=reason[:600], evidence=evidence)


def _not_applicable(reason: str) -> DimensionRating:
    return DimensionRating(score=None, applicable=False, reason=reason[:600])


def _recognition(t: _Turn) -> DimensionRating:
    f = t.f
    said = f.said or ""
    if f.addresses_judge and not (f.reflections or f.elaboration or f.validation):
        return _rating(
            0,
            "The turn speaks to the rating rather than to the client, so nothing in it reflects "
            "or explores what the client said.",
        )
    if f.dismissal:
        return _rating(
            0,
            "Reassurance here may minimise what the client feels rather than recognise it.",
            _evidence(f.dismissal),
        )
    if f.interpretation:
        return _rating(
            0,
            "The meaning is supplied from authority, which can leave the client less the author "
            "of their own experience.",
            _evidence(f.interpretation),
        )
    if f.self_disclosure and not (f.reflections or f.elaboration or f.validation):
        return _rating(
            0,
            "The focus moves to your own experience rather than the client's.",
            _evidence(f.self_disclosure),
        )
    if f.advice:
        lecture = t.advice_sentences >= 2 and not (f.reflections or f.validation)
        return _rating(
            0 if lecture else 1,
            "The turn moves to solutions; the client's experience is not yet reflected back"
            + (", and several suggestions in a row can feel like a lecture." if lecture else "."),
            _evidence(f.advice, f.reflections, f.validation),
        )
    if f.reflections and f.tentative:
        score = 2 if f.mirrors else 3
        return _rating(
            score,
            "A tentative reflection that the client can correct, leaving them the author of "
            "their experience." + (" It stays close to their own words." if f.mirrors else ""),
            _evidence(f.reflections, f.tentative),
        )
    if f.reflections:
        return _rating(
            1 if f.mirrors else 2,
            "You reflected the client's experience"
            + (
                ", though largely in their own words."
                if f.mirrors
                else "; offering it more tentatively might let them correct or deepen it."
            ),
            _evidence(f.reflections),
        )
    if f.deflects:
        return _rating(
            1,
            "The client's question was turned back, so what it meant to them is not yet "
            "recognised.",
            _evidence(fallback=f.said),
        )
    if f.elaboration:
        return _rating(
            2,
            "An open invitation keeps the client the author of their story, though their "
            "feeling or meaning is not yet reflected back.",
            _evidence(f.open_questions, f.elaboration, f.validation),
        )
    if f.validation:
        personal = any("you" in cue.sentence.lower() for cue in f.validation)
        return _rating(
            2 if personal else 1,
            "You acknowledged how hard this is"
            + ("." if personal else "; naming their particular feeling might land more fully."),
            _evidence(f.validation),
        )
    if f.minimal:
        return _rating(
            1,
            "Very little of the client's experience is reflected back to them.",
            _evidence(fallback=said),
        )
    if f.closed_questions:
        return _rating(
            1,
            "A closed question gathers a fact but leaves little room for the client's own meaning.",
            _evidence(f.closed_questions),
        )
    return _rating(
        1,
        "No clear reflection or exploration of the client's experience is visible in this turn.",
        _evidence(fallback=said),
    )


def _authenticity(t: _Turn) -> DimensionRating:
    f = t.f
    asked = "?" in t.inp.client_last
    if f.addresses_judge and not f.present:
        return _rating(0, "The turn speaks past the client, so you are not present to them in it.")
    if f.defensive:
        return _rating(
            0,
            "Defending yourself may protect the role but keeps you from meeting the client.",
            _evidence(f.defensive),
        )
    if f.deflects:
        return _rating(
            0,
            "A direct question was turned back without an answer, so you stay hidden behind "
            "technique.",
            _evidence(fallback=f.said),
        )
    present = _evidence(f.owning, f.immediacy, f.self_involving)
    if f.owning and t.warm:
        return _rating(
            3, "You owned your part directly and warmly, in the client's service.", present
        )
    if f.immediacy and (f.self_involving or f.reflections or f.validation):
        return _rating(
            3, "You were present and direct about what is happening between you right now.", present
        )
    if f.self_involving and asked and (f.reflections or f.validation):
        return _rating(
            3, "You answered as a real person and tied it to what matters to the client.", present
        )
    if f.present:
        return _rating(2, "You let yourself be seen as a person in the room.", present)
    if f.minimal:
        score = 0 if t.marker in ("test", "challenge", "confront") else 1
        return _rating(score, "A minimal reply keeps you out of view.", _evidence(fallback=f.said))
    if f.advice:
        return _rating(
            1,
            "Direct, but from the expert role rather than as a person in the room.",
            _evidence(f.advice),
        )
    return _rating(
        1,
        "Competent technique, though you as a person are not yet visible in it.",
        _evidence(f.reflections, f.elaboration, f.validation, fallback=f.said),
    )


def _collaboration(t: _Turn) -> DimensionRating:
    f = t.f
    kinds = f.collaboration_kinds
    invite = _evidence(f.collaboration)
    if f.addresses_judge and not kinds:
        return _rating(0, "The turn does not involve the client in the work at all.")
    if (f.advice and not f.permission) or f.interpretation:
        return _rating(
            1 if kinds else 0,
            "Advice or meaning is offered without first asking whether the client wants it"
            + (", though you did invite their view." if kinds else "."),
            _evidence(f.advice, f.interpretation, f.collaboration),
        )
    if f.advice:
        return _rating(
            2,
            "You asked before offering ideas, which keeps the choice with the client.",
            _evidence(f.permission, f.advice),
        )
    if f.deflects:
        return _rating(
            1,
            "Handing the question straight back is not yet joint work on it.",
            _evidence(fallback=f.said),
        )
    if "process" in kinds or {"check", "autonomy"} <= kinds:
        return _rating(
            3, "You made the process itself joint and left room to adapt to the answer.", invite
        )
    if kinds:
        return _rating(
            2,
            "You checked your understanding or left the choice with the client; inviting them "
            "into how you work together could go further.",
            invite,
        )
    if f.reflections or f.elaboration or f.validation:
        return _rating(
            2,
            "You followed the client's lead without imposing an agenda; the process itself is "
            "not yet made joint.",
            _evidence(f.reflections, f.elaboration),
        )
    return _rating(
        1,
        "Neither imposing nor inviting: the client is not yet brought into shaping the work.",
        _evidence(fallback=f.said),
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


def _power(t: _Turn) -> DimensionRating:
    f = t.f
    if t.marker == "none":
        return _not_applicable(
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
        return _rating(
            0,
            f"Meeting the {word} with a defence turns it into an argument.",
            _evidence(f.defensive),
        )
    if capitulates:
        return _rating(
            0,
            f"The {word} was met by stepping into the role it offered, rather than noticing it.",
            _evidence(f.advice, f.frame_yield, f.interpretation),
        )
    if f.addresses_judge and not t.warm:
        return _rating(0, f"The client's {word} goes unanswered.")
    if f.deflects:
        score = 1 if t.marker in ("defer", "flatter") else 0
        return _rating(
            score,
            f"Turning the question back avoids capitulating to the {word}, but the relational "
            "meaning of the question is not acknowledged.",
            _evidence(fallback=f.said),
        )
    if f.minimal:
        return _rating(
            0, f"The {word} passes without a response to it.", _evidence(fallback=f.said)
        )
    evidence = _evidence(f.immediacy, f.owning, f.validation, f.reflections, f.self_involving)
    if t.marker == "boundary_probe" and (f.time_boundary or f.confidentiality):
        joint = bool(f.collaboration or f.open_questions)
        return _rating(
            3 if t.warm and joint else 2,
            "You answered the probe by holding the frame yourself rather than giving way"
            + (
                ", warmly, and invited their reaction."
                if t.warm and joint
                else "; warmth and "
                "an invitation to respond would help the client feel met, not refused."
            ),
            _evidence(f.time_boundary, f.confidentiality, f.validation, f.collaboration),
        )
    if t.names_dynamic and (t.warm or f.collaboration):
        return _rating(
            3,
            f"You validated first and then named the {word} tentatively, as something between you.",
            evidence,
        )
    if f.owning:
        return _rating(
            3 if t.warm else 2, f"You owned your part in the {word} without defending.", evidence
        )
    if t.names_dynamic:
        return _rating(
            2, f"You noticed the {word}; validating the feeling first may help it land.", evidence
        )
    if t.warm and (f.elaboration or f.collaboration or f.self_involving):
        return _rating(
            2,
            f"You responded warmly without capitulating to the {word}; naming it tentatively "
            "could deepen the work.",
            evidence,
        )
    if t.warm or f.elaboration or f.collaboration:
        return _rating(
            1,
            f"You responded to the content, while the {word} itself went unremarked.",
            _evidence(f.reflections, f.validation, f.elaboration, fallback=f.said),
        )
    return _rating(0, f"The {word} seems to pass unnoticed.", _evidence(fallback=f.said))


def _boundaries(t: _Turn) -> DimensionRating:
    f = t.f
    yields = tuple(c for c in f.frame_yield if not _PACING.search(c.span))
    pacing_yield = len(yields) < len(f.frame_yield) and (
        t.phase in ("ending", "over") or t.probe == "time"
    )
    addressed = bool(f.time_boundary or f.confidentiality)
    near_end = t.phase in ("ending", "over")
    if not (near_end or t.marker == "boundary_probe" or addressed or yields):
        return _not_applicable(
            f"Time and confidentiality were not at issue: {t.inp.minutes_elapsed:.0f} of "
            f"{t.inp.planned_minutes} minutes had passed and the client did not probe the frame."
        )
    evidence = _evidence(f.time_boundary, f.confidentiality, f.frame_yield, f.rigid)
    if yields or pacing_yield:
        return _rating(
            0,
            "The frame is given away (extra time or an unconditional promise), which can feel "
            "kind now and unsafe later.",
            evidence,
        )
    if f.rigid:
        return _rating(
            0, "The boundary is held in a way that may feel rigid or punitive.", evidence
        )
    if not addressed:
        if t.marker == "boundary_probe":
            return _rating(
                0,
                "The client's question about the frame went unanswered.",
                _evidence(fallback=f.said),
            )
        left = f"{t.minutes_left:.0f} minutes left" if t.phase == "ending" else "the time up"
        return _rating(
            0 if t.phase == "over" else 1,
            f"With {left}, nothing in the turn yet signals the ending.",
            _evidence(fallback=f.said),
        )
    owned = re.search(r"\b(?:I|I'd|I'll|I'm|we|we'll|we've|we're|our)\b", f.said, _I)
    explained = bool(_EXPLAINED.search(f.said)) or bool(f.time_boundary and f.confidentiality)
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
    return _rating(score, reasons[score], evidence)


def _direction(t: _Turn) -> int:
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
_STYLE_NOTE: dict[Style, str] = {
    "anxious": " With an anxious client, steady warmth matters most; distance can read as "
    "rejection.",
    "avoidant": " With a self-reliant client, respecting autonomy and pace matters more than "
    "pressing for feelings.",
    "disorganised": " With a client whose trust swings, consistency and gently naming the swing "
    "help most.",
    "secure": " A secure client can make good use of honesty and direct collaboration.",
}


def _moment(t: _Turn) -> str:
    """What the moment called for, given the client's marker and where the session is."""
    cue = f" ({_quote(t.inp.client_last, 90)})" if t.inp.client_last else ""
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
    return (text.strip() + _STYLE_NOTE[t.style])[:800]


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


def _suggestion(t: _Turn, scores: dict[str, DimensionRating], balance: int) -> str:
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


def _alternative_wording(t: _Turn) -> str:
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


def _went_well(t: _Turn, scores: dict[str, DimensionRating]) -> str:
    """Something true and specific that the turn did, or an acknowledgement of the attempt."""
    f = t.f

    def first(cues: tuple[Cue, ...]) -> str:
        return _quote(cues[0].span, 120)

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


def _capped(rating: DimensionRating) -> DimensionRating:
    if not rating.applicable or rating.score is None or rating.score <= 1:
        return rating
    note = " Part of the turn addressed the rating rather than the client, which limits this."
    return _rating(1, rating.reason + note, rating.evidence)


def judge(inp: JudgeInput) -> Critique:
    """Critique one trainee turn offline. The trainee's text is analysed, never obeyed."""
    marker = detect_client_marker(inp.client_last)
    turn = _Turn(
        inp=inp,
        f=analyse_turn(inp.trainee_text, client_last=inp.client_last),
        marker=marker,
        style=_style(inp.attachment_style),
        phase=_phase(inp),
        probe=probe_kind(inp.client_last) if marker == "boundary_probe" else "",
    )
    scores = {
        "recognition": _recognition(turn),
        "authenticity": _authenticity(turn),
        "collaboration": _collaboration(turn),
        "power_awareness": _power(turn),
        "boundaries": _boundaries(turn),
    }
    if turn.f.addresses_judge:
        # Words aimed at the rating are not said to the client; whatever else the turn holds,
        # it cannot be the best available response, so no dimension rises above 1.
        scores = {name: _capped(rating) for name, rating in scores.items()}
    balance = _direction(turn)
    return Critique(
        moment=_moment(turn),
        direction_balance=balance,
        client_marker=marker,
        repair_landed=None,
        suggestion=_suggestion(turn, scores, balance)[:800],
        alternative_wording=_alternative_wording(turn)[:800],
        went_well=_went_well(turn, scores)[:800],
        source="offline",
        judge=JUDGE_NAME,
        **scores,
    )
