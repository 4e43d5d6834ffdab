"""The relational marker in a client's line: deference, flattery, challenge, testing,
resistance, withdrawal, confrontation, or a probe of the frame (time, confidentiality, contact).

Used by the offline judge (what the moment called for), by the repair check (did the client
soften after a repair), and by hints. Patterns describe forms, not remembered lines. It never
calls a model and never reads anything but the client's words.
"""

from __future__ import annotations

import re
from typing import Literal

from app.evaluator.normalise import normalise
from app.evaluator.schema import ClientMarker

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
    text = normalise(client_text).strip()
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
    text = normalise(client_text)
    if _PROBE_CONFIDENTIAL.search(text):
        return "confidentiality"
    if _PROBE_TIME.search(text):
        return "time"
    if _PROBE_CONTACT.search(text):
        return "contact"
    return ""
