"""Calibration: run the configured evaluator over turns rated by people, and report agreement.

The gold file is a CSV (format in docs/calibration.md): one row per trainee turn with its
context, and one column per rater and dimension (`recognition_r1`, `recognition_r2`, ...; blank
means "not applicable"). For each dimension the report gives the evaluator's agreement with
every rater and, when there are two or more raters, the raters' agreement with each other, so
the AI can be read against the human ceiling. Statistics come from `app.evaluator.agreement`.

Reading the file checks every cell first and reports all problems together, each naming the
file, line, column and fix. Turn text is never logged.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app.errors import AllianceError
from app.evaluator.agreement import PairAgreement, Rating, cohen_kappa, compare
from app.evaluator.rubric import BALANCE_LEVELS, MARKERS, SCORE_LEVELS
from app.evaluator.schema import DIMENSIONS, Critique, JudgeInput

SCALES: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(DIMENSIONS, SCORE_LEVELS),
    "direction_balance": BALANCE_LEVELS,
}
CONTEXT_COLUMNS = (
    "id",
    "persona_style",
    "persona_summary",
    "client_last",
    "trainee_text",
    "minutes_elapsed",
    "planned_minutes",
    "previous_repair",
)
STYLES = ("secure", "anxious", "avoidant", "disorganised")
_RATER_COLUMN = re.compile(r"^(?P<name>[a-z_]+)_r(?P<rater>[1-9][0-9]*)$")
AI = "AI"


class GoldFileError(AllianceError):
    """The gold file cannot be used; `problems` name the file, line, column and fix."""

    kind = "gold_file"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class GoldTurn:
    id: str
    judge_input: JudgeInput
    ratings: dict[str, dict[str, Rating]]  # rater ("r1") -> dimension -> rating
    markers: dict[str, str]  # rater -> client marker, where given


@dataclass(frozen=True, slots=True)
class GoldSet:
    file: str
    turns: tuple[GoldTurn, ...]
    raters: tuple[str, ...]  # "r1", "r2", ... in order


def _cell(raw: str | None) -> str:
    return (raw or "").strip()


def _rating(raw: str, scale: tuple[int, ...]) -> Rating:
    if raw == "":
        return None
    if re.fullmatch(r"[+-]?[0-9]+", raw) and int(raw) in scale:
        return int(raw)
    raise ValueError(
        f"{raw!r} is not a score; use a whole number from {scale[0]} to {scale[-1]}, or leave "
        "it blank for not applicable"
    )


def _columns(header: Sequence[str], file: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Rater columns as column -> (dimension or 'client_marker', rater), and header problems."""
    problems: list[str] = []
    raters: dict[str, tuple[str, str]] = {}
    for column in header:
        if column in CONTEXT_COLUMNS:
            continue
        match = _RATER_COLUMN.match(column)
        if match and (match["name"] in SCALES or match["name"] == "client_marker"):
            raters[column] = (match["name"], f"r{match['rater']}")
            continue
        known = ", ".join([*DIMENSIONS, "direction_balance", "client_marker"])
        problems.append(
            f"{file}: line 1, column {column!r}: not a column this format knows; rater columns "
            f"are <dimension>_r<rater> with dimension one of {known}, and the context columns "
            f"are {', '.join(CONTEXT_COLUMNS)}"
        )
    for required in ("id", "trainee_text"):
        if required not in header:
            problems.append(f"{file}: line 1: add the column {required!r}")
    if not raters:
        problems.append(
            f"{file}: line 1: no rater columns; add at least one, such as recognition_r1"
        )
    return raters, problems


def _number(row: dict[str, str], column: str, default: float) -> float:
    raw = _cell(row.get(column))
    if raw == "":
        return default
    value = float(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def parse_gold(text: str, *, file: str) -> GoldSet:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise GoldFileError([f"{file}: the file is empty; the first line must name the columns"])
    reader.fieldnames = header
    rater_columns, problems = _columns(header, file)
    turns: list[GoldTurn] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        at = f"{file}: line {line}"
        turn_id = _cell(row.get("id"))
        text_ = _cell(row.get("trainee_text"))
        if not turn_id:
            problems.append(f"{at}, column 'id': give the turn an id")
        elif turn_id in seen:
            problems.append(f"{at}, column 'id': {turn_id!r} is used twice; ids must be unique")
        seen.add(turn_id)
        if not text_:
            problems.append(f"{at}, column 'trainee_text': write the trainee's turn")
        style = _cell(row.get("persona_style")) or "secure"
        if style not in STYLES:
            problems.append(f"{at}, column 'persona_style': use one of {', '.join(STYLES)}")
        repair_raw = _cell(row.get("previous_repair")).lower()
        if repair_raw not in ("", "true", "false", "yes", "no", "1", "0"):
            problems.append(f"{at}, column 'previous_repair': use true or false, or leave blank")
        try:
            planned = _number(row, "planned_minutes", 50)
            elapsed = _number(row, "minutes_elapsed", 20)
        except ValueError as exc:
            problems.append(f"{at}: minutes_elapsed and planned_minutes must be numbers ({exc})")
            planned, elapsed = 50, 20
        ratings: dict[str, dict[str, Rating]] = {}
        markers: dict[str, str] = {}
        for column, (name, rater) in rater_columns.items():
            raw = _cell(row.get(column))
            if name == "client_marker":
                if raw and raw not in MARKERS:
                    problems.append(f"{at}, column {column!r}: use one of {', '.join(MARKERS)}")
                elif raw:
                    markers[rater] = raw
                continue
            try:
                ratings.setdefault(rater, {})[name] = _rating(raw, SCALES[name])
            except ValueError as exc:
                problems.append(f"{at}, column {column!r}: {exc}")
        client_last = _cell(row.get("client_last"))
        turns.append(
            GoldTurn(
                id=turn_id,
                judge_input=JudgeInput(
                    persona_summary=_cell(row.get("persona_summary")) or f"A {style} client.",
                    attachment_style=style,
                    transcript=[("client", client_last)] if client_last else [],
                    client_last=client_last,
                    trainee_text=text_,
                    minutes_elapsed=elapsed,
                    planned_minutes=int(planned),
                    previous_repair=repair_raw in ("true", "yes", "1"),
                ),
                ratings=ratings,
                markers=markers,
            )
        )
    if not turns and not problems:
        problems.append(f"{file}: no turns; add one row per rated trainee turn")
    if problems:
        raise GoldFileError(problems)
    raters = sorted({r for _, r in rater_columns.values()}, key=lambda r: int(r[1:]))
    return GoldSet(file=file, turns=tuple(turns), raters=tuple(raters))


def load_gold(path: Path) -> GoldSet:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise GoldFileError([f"{path}: cannot read it ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise GoldFileError([f"{path}: not UTF-8 text; save the CSV as UTF-8"]) from None
    return parse_gold(text, file=str(path))


class Judge(Protocol):
    async def critique(self, judge_input: JudgeInput) -> Critique: ...


@dataclass(frozen=True, slots=True)
class DimensionReport:
    dimension: str
    pairs: dict[str, PairAgreement]  # "AI-r1", "r1-r2", ...


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    file: str
    judge: str
    turns: int
    raters: tuple[str, ...]
    sources: dict[str, int]  # critique source -> count (llm, offline, offline_fallback)
    dimensions: tuple[DimensionReport, ...]
    marker_kappa: dict[str, float | None] = field(default_factory=dict)


async def critique_all(gold: GoldSet, judge: Judge, *, concurrency: int = 4) -> list[Critique]:
    """The judge's critique of every gold turn, in order, at most `concurrency` at a time."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(turn: GoldTurn) -> Critique:
        async with gate:
            return await judge.critique(turn.judge_input)

    return list(await asyncio.gather(*(one(turn) for turn in gold.turns)))


def _ai_rating(critique: Critique, dimension: str) -> Rating:
    if dimension == "direction_balance":
        return critique.direction_balance
    rating = critique.rating(dimension)
    return rating.score if rating.applicable else None


def agreement_report(
    gold: GoldSet, critiques: Sequence[Critique], *, judge: str
) -> CalibrationReport:
    """Agreement per dimension between the judge and each rater, and between raters."""
    if len(critiques) != len(gold.turns):
        raise ValueError("one critique per gold turn is needed")
    dimensions: list[DimensionReport] = []
    for dimension, scale in SCALES.items():
        series: dict[str, list[Rating]] = {}
        for rater in gold.raters:
            if all(dimension in turn.ratings.get(rater, {}) for turn in gold.turns):
                series[rater] = [turn.ratings[rater][dimension] for turn in gold.turns]
        if not series:
            continue
        ai = [_ai_rating(c, dimension) for c in critiques]
        pairs = {f"{AI}-{rater}": compare(ai, values, scale) for rater, values in series.items()}
        names = list(series)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                pairs[f"{first}-{second}"] = compare(series[first], series[second], scale)
        dimensions.append(DimensionReport(dimension=dimension, pairs=pairs))
    markers: dict[str, list[str]] = {AI: [c.client_marker for c in critiques]}
    for rater in gold.raters:
        if all(rater in turn.markers for turn in gold.turns):
            markers[rater] = [turn.markers[rater] for turn in gold.turns]
    names = list(markers)
    marker_kappa: dict[str, float | None] = {}
    if len(names) > 1:
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                marker_kappa[f"{first}-{second}"] = cohen_kappa(markers[first], markers[second])
    return CalibrationReport(
        file=gold.file,
        judge=judge,
        turns=len(gold.turns),
        raters=gold.raters,
        sources=dict(Counter(c.source for c in critiques)),
        dimensions=tuple(dimensions),
        marker_kappa=marker_kappa,
    )


def report_json(report: CalibrationReport) -> dict[str, Any]:
    return {
        "file": report.file,
        "judge": report.judge,
        "turns": report.turns,
        "raters": list(report.raters),
        "critique_sources": report.sources,
        "dimensions": {
            d.dimension: {
                pair: {
                    "turns": a.turns,
                    "both_scored": a.both_scored,
                    "applicability_agreement": a.applicability_agreement,
                    "exact_agreement": a.exact_agreement,
                    "weighted_kappa": a.weighted_kappa,
                    "spearman": a.spearman,
                    "confusion": {
                        "labels": list(a.labels),
                        "matrix": [list(r) for r in a.confusion],
                    },
                }
                for pair, a in d.pairs.items()
            }
            for d in report.dimensions
        },
        "client_marker_kappa": report.marker_kappa,
    }


def _num(value: float | None) -> str:
    return "  –  " if value is None else f"{value:5.2f}"


def format_table(report: CalibrationReport) -> str:
    """The report as plain text: one line per dimension and rater pair, then the matrices."""
    sources = ", ".join(f"{k}: {v}" for k, v in sorted(report.sources.items()))
    lines = [
        f"Calibration of {report.judge} on {report.turns} turns from {report.file}",
        f"Critiques by source: {sources}. Raters: {', '.join(report.raters)}.",
        "kw: quadratic-weighted Cohen's kappa and rho: Spearman, both on turns both raters scored;",
        "N/A agr: share of turns where both agree the dimension applies or not; - : undefined.",
        "",
        f"{'dimension':<18} {'pair':<7} {'turns':>5} {'scored':>6} {'N/A agr':>7} "
        f"{'exact':>5} {'kw':>5} {'rho':>5}",
    ]
    for dim in report.dimensions:
        for index, (pair, a) in enumerate(dim.pairs.items()):
            name = dim.dimension if index == 0 else ""
            lines.append(
                f"{name:<18} {pair:<7} {a.turns:>5} {a.both_scored:>6} "
                f"{_num(a.applicability_agreement):>7} {_num(a.exact_agreement)} "
                f"{_num(a.weighted_kappa)} {_num(a.spearman)}"
            )
    if report.marker_kappa:
        lines.append("")
        lines.append(
            "Client marker, Cohen's kappa: "
            + ", ".join(f"{pair} {_num(k).strip()}" for pair, k in report.marker_kappa.items())
        )
    lines += ["", "Confusion matrices (rows: first of the pair; columns: second):"]
    for dim in report.dimensions:
        for pair, a in dim.pairs.items():
            lines.append(f"  {dim.dimension} {pair}")
            lines.append("      " + "".join(f"{label:>5}" for label in a.labels))
            for label, row in zip(a.labels, a.confusion, strict=True):
                lines.append(f"  {label:>4}" + "".join(f"{count:>5}" for count in row))
    return "\n".join(lines)
