"""The simulated client's own short rating of the alliance, from its side, in the first person.

The default is written offline and deterministically from the client's final state (trust,
rupture, stance, what it disclosed) in the persona's voice: its attachment style decides how it
talks about the relationship and one of its own idioms opens the rating. Hidden disclosure
content is never quoted; the rating only says whether something was told.

When configured (`report_client_voice = "model"`) and the client is played by a language model,
the finished session's rating text is asked of that model instead, with the offline score given
to it; any failure falls back to the offline rating, labelled. Model text is only ever text.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Literal

from app.dialogue import rules
from app.dialogue.state import ClientState
from app.errors import LLMError
from app.llm.base import ChatMessage, ChatModel, ChatRequest
from app.personas import AttachmentStyle, Persona
from app.prompts import Prompts
from app.reports.model import ClientRating

log = logging.getLogger(__name__)

VoiceMode = Literal["persona", "model"]
MAX_MODEL_CHARS = 700
_BREAKS_CHARACTER = ("as an ai", "language model", "system prompt", "as your counsellor")

Band = Literal["low", "middle", "high"]

_FELT: dict[AttachmentStyle, dict[Band, str]] = {
    "secure": {
        "low": "I didn't feel we got on the same page today. I kept having to explain myself "
        "and I'm not sure you heard what I actually came with.",
        "middle": "It was all right. Some of it landed and some of it felt a bit like being "
        "processed, but I could say so, and that counts for something.",
        "high": "I felt you were properly with me today. I could disagree with you and it "
        "didn't knock anything over.",
    },
    "anxious": {
        "low": "I kept watching your face to see if I was too much, and I think I was. I came "
        "away feeling like I'd taken up your time for nothing.",
        "middle": "Some of the time I felt you were really listening, and then I'd lose it and "
        "start wondering if you were bored of me.",
        "high": "I felt like you actually remembered me and wanted to hear it. I didn't have to "
        "keep checking you were still there.",
    },
    "avoidant": {
        "low": "I don't see what that was for. It felt like being pushed to perform feelings on "
        "cue, so I didn't.",
        "middle": "It was tolerable. You mostly let me get on with it, which is more than I "
        "expected, but I'm not sold.",
        "high": "You didn't push, and you didn't pretend. I said more than I planned to, which "
        "is annoying, but fine.",
    },
    "disorganised": {
        "low": "I didn't feel safe in there. Part of me wanted to trust you and part of me was "
        "already out the door.",
        "middle": "Some of it was good, and then it got too close and I wanted to bolt. I don't "
        "know yet if you're solid.",
        "high": "You stayed steady even when I wasn't. I don't say that lightly, and I'll "
        "probably pull back next time, but today felt safe.",
    },
}
_RUPTURE: dict[str, str] = {
    "withdrawal": "By the end I'd gone quiet on you, and I don't think you noticed how much.",
    "confrontation": "I'm still angry about how that went, and I said so.",
}
_STANCE: dict[str, str] = {
    "deferring": "I kept wanting you to just tell me what to do.",
    "challenging": "I was testing whether you'd hold your ground.",
    "collaborative": "It felt like we were working on it together.",
    "withdrawn": "I held a lot back.",
}


def band(trust: int) -> Band:
    return "low" if trust < 35 else ("middle" if trust < 60 else "high")


def alliance_score(state: ClientState) -> int:
    """1-7, as a client would rate 'I feel this person and I are working well together'."""
    score = 1 + round(state.trust * 6 / 100)
    if state.rupture != "none":
        score -= 1
    return max(1, min(7, score))


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!", "…")) else text + "."


def persona_rating(persona: Persona, state: ClientState, *, turns: int) -> ClientRating:
    """The offline rating: deterministic from the final state and the persona's own words."""
    parts: list[str] = []
    idioms = persona.speech.idioms
    level = band(state.trust)
    if idioms:
        parts.append(_sentence(idioms[("low", "middle", "high").index(level) % len(idioms)]))
    if turns == 0:
        parts.append("We'd hardly started, so I can't really say yet.")
    else:
        parts.append(_FELT[persona.style][level])
        if state.rupture != "none":
            parts.append(_RUPTURE[state.rupture])
        else:
            parts.append(_STANCE[state.stance])
        deep = [
            layer
            for layer in persona.disclosure_layers
            if layer.id in state.disclosed and layer.depth != "surface"
        ]
        if any(layer.depth == "core" for layer in deep):
            parts.append("I told you something today I haven't told anyone.")
        elif deep:
            parts.append("I told you more than I meant to.")
    score = alliance_score(state)
    return ClientRating(score=score, text=" ".join(parts), source="persona")


class ClientVoice:
    """Gives the rating; asks the client's model only when configured and the session ended.

    Model ratings are kept for the latest turn of an ended session, so a report opened again
    does not ask again (bounded, in memory).
    """

    def __init__(
        self, *, mode: VoiceMode, model: ChatModel, prompts: Prompts, cache_size: int = 256
    ) -> None:
        self.mode = mode
        self.model = model
        self.prompts = prompts
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], ClientRating] = OrderedDict()

    async def rate(
        self,
        *,
        persona: Persona,
        state: ClientState,
        exchanges: list[tuple[str, str]],
        ended: bool,
        key: tuple[str, str],
    ) -> ClientRating:
        turns = sum(1 for speaker, _ in exchanges if speaker == "counsellor")
        offline = persona_rating(persona, state, turns=turns)
        if self.mode != "model" or self.model.offline or not ended or turns == 0:
            return offline
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            text = await self._ask(persona, state, exchanges, offline.score)
        except LLMError as exc:
            log.warning("client rating fell back to the persona voice", extra={"kind": exc.kind})
            return offline.model_copy(update={"source": "persona_fallback"})
        if text is None:
            log.warning("client rating fell back to the persona voice", extra={"kind": "unusable"})
            return offline.model_copy(update={"source": "persona_fallback"})
        rating = ClientRating(score=offline.score, text=text, source="model")
        self._cache[key] = rating
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return rating

    async def _ask(
        self,
        persona: Persona,
        state: ClientState,
        exchanges: list[tuple[str, str]],
        score: int,
    ) -> str | None:
        system = self.prompts.render(
            "client_rating.md.j2",
            client_name=persona.name,
            age=persona.identity.age,
            occupation=persona.identity.occupation,
            presenting_problem=persona.presenting_problem,
            transference=persona.transference,
            speech=persona.speech,
            guidance=rules.guidance(state, persona),
            score=score,
        )
        user = self.prompts.render("client_rating_input.md.j2", exchanges=exchanges[-12:])
        request = ChatRequest(
            messages=[ChatMessage("system", system), ChatMessage("user", user)],
            max_tokens=220,
            temperature=0.7,
        )
        parts = [chunk.text async for chunk in self.model.stream(request)]
        return usable("".join(parts))


def usable(text: str) -> str | None:
    """The model's rating as plain text, or None when it broke character or said nothing."""
    flat = " ".join(text.split()).strip().strip('"')
    if not flat or any(marker in flat.lower() for marker in _BREAKS_CHARACTER):
        return None
    if len(flat) > MAX_MODEL_CHARS:
        cut = flat[:MAX_MODEL_CHARS]
        flat = cut[: cut.rfind(" ")].rstrip(",;:") + "…" if " " in cut else cut + "…"
    return flat
