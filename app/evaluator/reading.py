"""One trainee turn as the offline judge reads it: the turn's cues, the client's marker, the
attachment style, where the session is, and helpers that quote the trainee's own words.

Shared by the scoring (`app.evaluator.scoring`) and the written feedback
(`app.evaluator.feedback`). Pure: no I/O, no model calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.evaluator.features import Cue, TurnFeatures
from app.evaluator.markers import ProbeKind
from app.evaluator.schema import ClientMarker, DimensionRating, JudgeInput

Style = Literal["secure", "anxious", "avoidant", "disorganised"]
Phase = Literal["opening", "middle", "ending", "over"]

_I = re.IGNORECASE


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts), _I)


def style_of(text: str) -> Style:
    low = text.lower()
    if "disorg" in low or "fearful" in low:
        return "disorganised"
    if "anx" in low or "preoccup" in low:
        return "anxious"
    if "avoid" in low or "dismiss" in low:
        return "avoidant"
    return "secure"


def phase_of(inp: JudgeInput) -> Phase:
    if inp.planned_minutes > 0:
        left = inp.planned_minutes - inp.minutes_elapsed
        if left <= 0:
            return "over"
        if left <= max(5.0, inp.planned_minutes * 0.1):
            return "ending"
    if not any(speaker == "counsellor" for speaker, _ in inp.transcript):
        return "opening"  # the client may have opened; the trainee has not spoken yet
    return "middle"


RELATIONAL = _rx(
    r"\byou(?:'d|\s+would)?\s+(?:like|want|wish|need|hope)\s+(?:me|us)\s+to\b",
    r"\b(?:from|of|about|with|in|trust)\s+me\b|\bwhether\s+I\b|\bif\s+I(?:'m|\s+am|\s+really|"
    r"\s+can|\s+could|\s+will|\s+said|\s+did)\b|\bmy\s+(?:answer|advice|opinion|view|role|age|"
    r"experience|training|qualifications?|part)\b",
    r"\bwhether\s+(?:this|counsell?ing|therapy|talking|coming\s+here)\b|\b(?:between|for)\s+us\b"
    r"|\bthe\s+way\s+we\b|\bsomething\s+I\s+(?:said|did)\b",
)
EXPLAINED = _rx(
    r"\b(?:because|so\s+that|so\s+we|which\s+means|that\s+means|to\s+make\s+sure|the\s+reason|"
    r"to\s+keep\s+you|to\s+protect|except|unless|the\s+only\s+(?:time|exception)|only\s+if)\b"
)
PACING = _rx(r"no\s+rush|take\s+as\s+long")


@dataclass(frozen=True, slots=True)
class TurnReading:
    inp: JudgeInput
    f: TurnFeatures
    marker: ClientMarker
    style: Style
    phase: Phase
    probe: ProbeKind
    repair: bool | None = None  # whether the previous turn's repair landed, if there was one

    @property
    def warm(self) -> bool:
        f = self.f
        return bool(f.validation or f.reflections or f.self_involving or f.owning)

    @property
    def names_dynamic(self) -> bool:
        f = self.f
        return bool(f.immediacy) or bool(f.tentative and RELATIONAL.search(f.said))

    @property
    def advice_sentences(self) -> int:
        return len({cue.sentence for cue in self.f.advice})

    @property
    def minutes_left(self) -> float:
        return max(0.0, self.inp.planned_minutes - self.inp.minutes_elapsed)


def quote(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"“{text}”"


def cite(*groups: tuple[Cue, ...], fallback: str = "") -> str:
    spans: list[str] = []
    for group in groups:
        for cue in group:
            if cue.span not in spans and not any(cue.span in s for s in spans):
                spans.append(cue.span)
    quoted = [quote(s, 160) for s in spans[:3]]
    if not quoted and fallback:
        quoted = [quote(fallback, 200)]
    return "; ".join(quoted)[:600]


def scored(score: int, reason: str, evidence: str = "") -> DimensionRating:
    return DimensionRating(score=score, applicable=True, reason=reason[:600], evidence=evidence)


def not_applicable(reason: str) -> DimensionRating:
    return DimensionRating(score=None, applicable=False, reason=reason[:600])
