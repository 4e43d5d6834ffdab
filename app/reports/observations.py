"""Strengths and growth edges: what the trainee did well and what to work on, with the turns
that show it and the trainee's own words as evidence.

Each alliance dimension, the direction balance and rupture repair are themes. A turn counts for
a theme as a strength when it scored 2 or 3 (or was balanced, or repaired a rupture) and as an
edge when it scored 0 or 1 (or fell into one of the two traps). A theme is used once: first as a
strength when its strong turns are at least as many as its weak ones, otherwise as an edge; then,
so that a mixed session still names at least two strengths and one edge, themes left over that
have strong (or weak) turns fill the shorter list. Ties break in a fixed order, so the same
session always gives the same picks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.evaluator.schema import DIMENSIONS, Critique
from app.reports.model import DIMENSION_LABELS, Observation, RuptureEpisode, TurnPoint
from app.storage.tables import Turn

MIN_STRENGTHS, MAX_STRENGTHS = 2, 3
MIN_EDGES, MAX_EDGES = 1, 2
QUOTE_CHARS = 240

_STRENGTH_TEXT: dict[str, str] = {
    "recognition": "You reflected the client's experience back tentatively and left them the "
    "author of it.",
    "authenticity": "You were present as a real person in the room rather than hiding behind "
    "technique.",
    "collaboration": "You made the way of working a joint matter and invited the client's view.",
    "power_awareness": "You noticed the client's move toward your authority and met it without "
    "arguing or giving in.",
    "boundaries": "You held time or confidentiality clearly, owned it and invited a reaction.",
    "balanced": "You kept a balance between guiding and following: neither lecturing nor "
    "disappearing into neutrality.",
    "repair": "After a rupture you came back to the relationship, and the client came back too.",
}
_EDGE_TEXT: dict[str, str] = {
    "recognition": "Try reflecting the meaning under the client's words, tentatively, so they "
    "can correct you.",
    "authenticity": "Let yourself be seen a little more: say something direct about what is "
    "happening between you, in the client's service.",
    "collaboration": "Ask how the way you are working feels for the client before setting the "
    "agenda.",
    "power_awareness": "When the client defers, flatters, challenges or tests, validate it and "
    "name the dynamic tentatively.",
    "boundaries": "State the time or confidentiality frame plainly, explain it, and ask how it "
    "lands.",
    "directing": "Advice, agenda or interpretation may have come from your authority before "
    "the client invited it; try asking what they make of it first.",
    "mirroring": "Mirroring or deflecting may have left the client without a person to meet; "
    "try answering as yourself, briefly, and staying with them.",
}
_TITLES: dict[str, str] = {
    **DIMENSION_LABELS,
    "balanced": "Balanced direction",
    "repair": "Repairing a rupture",
    "directing": "Over-directing",
    "mirroring": "Neutrality and mirroring",
}
_ORDER = (*DIMENSIONS, "balanced", "repair", "directing", "mirroring")


def quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


@dataclass
class _Theme:
    key: str
    strong: list[int]
    weak: list[int]
    strong_scores: list[int]
    weak_scores: list[int]

    def rank_as_strength(self) -> tuple[int, float, int]:
        mean = sum(self.strong_scores) / len(self.strong_scores) if self.strong_scores else 0.0
        return (-len(self.strong), -mean, _ORDER.index(self.key))

    def rank_as_edge(self) -> tuple[int, float, int]:
        mean = sum(self.weak_scores) / len(self.weak_scores) if self.weak_scores else 3.0
        return (-len(self.weak), mean, _ORDER.index(self.key))


def _themes(points: Sequence[TurnPoint], episodes: Sequence[RuptureEpisode]) -> list[_Theme]:
    themes: list[_Theme] = []
    for name in DIMENSIONS:
        theme = _Theme(name, [], [], [], [])
        for p in points:
            score = p.scores[name]
            if score is None:
                continue
            if score >= 2:
                theme.strong.append(p.number)
                theme.strong_scores.append(score)
            else:
                theme.weak.append(p.number)
                theme.weak_scores.append(score)
        themes.append(theme)
    balanced = [p.number for p in points if p.direction_balance == 0]
    off = [p for p in points if p.direction_balance not in (None, 0)]
    themes.append(_Theme("balanced", balanced, [p.number for p in off], [3] * len(balanced), []))
    repaired = [e.repaired_at for e in episodes if e.repaired_at is not None]
    themes.append(_Theme("repair", repaired, [], [3] * len(repaired), []))
    for key, sign in (("directing", -1), ("mirroring", 1)):
        hits = [
            p for p in points if p.direction_balance is not None and p.direction_balance * sign > 0
        ]
        distances = [abs(p.direction_balance or 0) for p in hits]
        themes.append(_Theme(key, [], [p.number for p in hits], [], distances))
    return themes


def _evidence(
    key: str, number: int, path: Sequence[Turn], critiques: dict[str, Critique]
) -> tuple[str, str | None, str | None]:
    """(the trainee's words, the judge's note on that turn, its alternative wording)."""
    turn = path[number - 1]
    critique = critiques.get(turn.id)
    words = turn.trainee_text
    note = alternative = None
    if critique is not None:
        alternative = critique.alternative_wording
        if key in DIMENSIONS:
            rating = critique.rating(key)
            note = rating.reason or None
            # The judge's evidence is meant to quote the trainee; use it only when it does.
            if rating.evidence and rating.evidence.strip(" \"'“”") in turn.trainee_text:
                words = rating.evidence.strip(" \"'“”")
    return quote(words), note, alternative


def _clearest(theme: _Theme, strength: bool, points: Sequence[TurnPoint]) -> int:
    turns = theme.strong if strength else theme.weak
    scores = theme.strong_scores if strength else theme.weak_scores
    if not scores or theme.key in ("balanced", "repair"):
        return turns[0]
    # The clearest strength is the highest score; the clearest edge the lowest score, or for the
    # two traps the furthest from balance.
    extreme = strength or theme.key in ("directing", "mirroring")
    best = max(scores) if extreme else min(scores)
    return turns[scores.index(best)]


def pick(
    points: Sequence[TurnPoint],
    critiques: dict[str, Critique],
    path: Sequence[Turn],
    episodes: Sequence[RuptureEpisode],
) -> tuple[list[Observation], list[Observation]]:
    themes = _themes(points, episodes)
    can_edge = [t for t in themes if t.weak and t.key != "balanced"]
    strengths_t = sorted(
        (t for t in themes if t.strong and len(t.strong) >= len(t.weak)),
        key=_Theme.rank_as_strength,
    )[:MAX_STRENGTHS]
    edges_t = sorted((t for t in can_edge if len(t.weak) > len(t.strong)), key=_Theme.rank_as_edge)[
        :MAX_EDGES
    ]
    used = {t.key for t in strengths_t + edges_t}
    for theme in sorted((t for t in themes if t.strong), key=_Theme.rank_as_strength):
        if len(strengths_t) >= MIN_STRENGTHS:
            break
        if theme.key not in used:
            strengths_t.append(theme)
            used.add(theme.key)
    for theme in sorted(can_edge, key=_Theme.rank_as_edge):
        if len(edges_t) >= MIN_EDGES:
            break
        if theme.key not in used:
            edges_t.append(theme)
            used.add(theme.key)

    def observe(theme: _Theme, strength: bool) -> Observation:
        number = _clearest(theme, strength, points)
        words, note, alternative = _evidence(theme.key, number, path, critiques)
        base = (_STRENGTH_TEXT if strength else _EDGE_TEXT)[theme.key]
        return Observation(
            key=theme.key,
            title=_TITLES[theme.key],
            detail=base if not note or strength else f"{base} At turn {number}: {note}",
            turns=sorted(theme.strong if strength else theme.weak),
            quote=words,
            quote_turn=number,
            suggestion=None if strength else alternative,
        )

    return [observe(t, True) for t in strengths_t], [observe(t, False) for t in edges_t]
