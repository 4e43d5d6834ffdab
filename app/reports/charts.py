"""Server-rendered SVG charts for the report: the per-dimension trajectory and direction balance.

The SVG is built as a string with every piece of text escaped, so it is well-formed XML on its
own (downloadable, printable) and safe inline in HTML. Colours are presentation attributes, not
inline styles, so a strict Content Security Policy allows them. Each series also has its own dash
pattern and marker shape, so the chart does not depend on colour alone; `role="img"` with a
title and description names it, and the page carries the same data as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from app.evaluator.schema import DIMENSIONS
from app.reports.model import (
    BALANCE_LABELS,
    DIMENSION_LABELS,
    DimensionSummary,
    TurnPoint,
    signed,
)


def esc(text: object) -> str:
    return escape(str(text), quote=True)


@dataclass(frozen=True, slots=True)
class Series:
    colour: str
    dash: str
    marker: str  # circle, square, triangle, diamond, cross
    offset: float  # px, so that equal scores on several dimensions stay visible


SERIES: dict[str, Series] = {
    "recognition": Series("#1f5fa8", "", "circle", -6.0),
    "authenticity": Series("#a0522d", "6 3", "square", -3.0),
    "collaboration": Series("#2e7d32", "2 3", "triangle", 0.0),
    "power_awareness": Series("#6a3d9a", "8 3 2 3", "diamond", 3.0),
    "boundaries": Series("#4b5a60", "1 2", "cross", 6.0),
}

WIDTH = 720
LEFT, RIGHT, TOP = 56, 16, 16


def _marker(shape: str, x: float, y: float, colour: str, label: str) -> str:
    tip = f"<title>{esc(label)}</title>"
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">{tip}</circle>'
    if shape == "square":
        return (
            f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}">'
            f"{tip}</rect>"
        )
    if shape == "triangle":
        points = f"{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}"
        return f'<polygon points="{points}" fill="{colour}">{tip}</polygon>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}">{tip}</polygon>'
    path = (
        f"M{x - 4:.1f},{y - 4:.1f} L{x + 4:.1f},{y + 4:.1f} "
        f"M{x - 4:.1f},{y + 4:.1f} L{x + 4:.1f},{y - 4:.1f}"
    )
    return f'<path d="{path}" stroke="{colour}" stroke-width="2.5" fill="none">{tip}</path>'


def _x_positions(count: int, width: int) -> list[float]:
    inner = width - LEFT - RIGHT
    if count <= 1:
        return [LEFT + inner / 2] * count
    step = inner / (count - 1)
    return [LEFT + i * step for i in range(count)]


def _x_axis(xs: Sequence[float], baseline: float) -> list[str]:
    out = [
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.1f}" y="{baseline + 34:.1f}" '
        'text-anchor="middle" class="chart__axis-title" fill="#4b5a60" font-size="12">'
        "Trainee turn</text>"
    ]
    every = max(1, -(-len(xs) // 12))
    for i, x in enumerate(xs):
        if i % every and i != len(xs) - 1:
            continue
        out.append(
            f'<text x="{x:.1f}" y="{baseline + 18:.1f}" text-anchor="middle" '
            f'fill="#4b5a60" font-size="12">{i + 1}</text>'
        )
    return out


def _open(chart_id: str, height: int, title: str, desc: str, css: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" '
        'font-family="system-ui, sans-serif">',
        f'<title id="{chart_id}-title">{esc(title)}</title>',
        f'<desc id="{chart_id}-desc">{esc(desc)}</desc>',
    ]


def trajectory_svg(
    points: Sequence[TurnPoint],
    summaries: Sequence[DimensionSummary],
    *,
    title: str,
    chart_id: str = "trajectory-chart",
) -> str:
    """Scores 0-3 for each dimension across the turns; gaps where a turn was not scored."""
    plot_h = 180
    legend_y = TOP + plot_h + 56
    height = legend_y + 28
    desc = "; ".join(
        f"{s.label}: "
        + (
            f"mean {s.mean:.2f} of 3 over {s.scored_turns} scored turns"
            if s.mean is not None
            else "not scored"
        )
        for s in summaries
    )
    out = _open(chart_id, height, title, desc or "No turns yet.", "chart--trajectory")
    bottom = TOP + plot_h

    def y_of(score: float) -> float:
        return bottom - score / 3 * plot_h

    for tick in range(4):
        y = y_of(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d9d3c7" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 10}" y="{y + 4:.1f}" text-anchor="end" fill="#4b5a60" '
            f'font-size="12">{tick}</text>'
        )
    out.append(
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" fill="#4b5a60" '
        f'font-size="12" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">Score (0–3)</text>'
    )
    xs = _x_positions(len(points), WIDTH)
    if not points:
        out.append(
            f'<text x="{WIDTH / 2:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
            'fill="#4b5a60" font-size="14">No turns yet.</text>'
        )
    out += _x_axis(xs, bottom)
    for name in DIMENSIONS:
        series = SERIES[name]
        label = DIMENSION_LABELS[name]
        group = [f'<g class="chart__series chart__series--{name}">']
        run: list[str] = []
        runs: list[list[str]] = []
        for x, point in zip(xs, points, strict=True):
            score = point.scores[name]
            if score is None:
                if run:
                    runs.append(run)
                run = []
                continue
            y = y_of(score) + series.offset
            run.append(f"{x:.1f},{y:.1f}")
            group.append(
                _marker(
                    series.marker,
                    x,
                    y,
                    series.colour,
                    f"Turn {point.number}, {label}: {score} of 3",
                )
            )
        if run:
            runs.append(run)
        dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
        for segment in runs:
            if len(segment) > 1:
                group.insert(
                    1,
                    f'<polyline points="{" ".join(segment)}" fill="none" '
                    f'stroke="{series.colour}" stroke-width="2"{dash}/>',
                )
        group.append("</g>")
        out += group
    slot = (WIDTH - LEFT - RIGHT) / len(DIMENSIONS)
    for index, name in enumerate(DIMENSIONS):
        series = SERIES[name]
        x = LEFT + index * slot
        dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 22:.1f}" y1="{legend_y:.1f}" y2="{legend_y:.1f}" '
            f'stroke="{series.colour}" stroke-width="2"{dash}/>'
        )
        out.append(_marker(series.marker, x + 11, legend_y, series.colour, DIMENSION_LABELS[name]))
        out.append(
            f'<text x="{x + 28:.1f}" y="{legend_y + 4:.1f}" fill="#1e2a2f" font-size="12">'
            f"{esc(DIMENSION_LABELS[name])}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def balance_svg(
    values: Sequence[int | None], *, title: str, summary: str, chart_id: str = "balance-chart"
) -> str:
    """Direction balance per turn on −2 (directing) .. +2 (mirroring), with the balanced band."""
    plot_h = 120
    height = TOP + plot_h + 44
    out = _open(chart_id, height, title, summary, "chart--balance")
    bottom = TOP + plot_h

    def y_of(value: float) -> float:
        return bottom - (value + 2) / 4 * plot_h

    band_top, band_bottom = y_of(0.5), y_of(-0.5)
    out.append(
        f'<rect x="{LEFT}" y="{band_top:.1f}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{band_bottom - band_top:.1f}" fill="#e7eeee"/>'
    )
    for tick in range(-2, 3):
        y = y_of(tick)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d9d3c7" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 10}" y="{y + 4:.1f}" text-anchor="end" fill="#4b5a60" '
            f'font-size="12">{signed(tick)}</text>'
        )
    out.append(
        f'<text x="{WIDTH - RIGHT - 4}" y="{y_of(2) + 14:.1f}" text-anchor="end" fill="#4b5a60" '
        'font-size="11">mirroring</text>'
    )
    out.append(
        f'<text x="{WIDTH - RIGHT - 4}" y="{y_of(-2) - 6:.1f}" text-anchor="end" '
        'fill="#4b5a60" font-size="11">directing</text>'
    )
    xs = _x_positions(len(values), WIDTH)
    out += _x_axis(xs, bottom)
    segment: list[str] = []
    segments: list[list[str]] = []
    dots: list[str] = []
    for index, (x, value) in enumerate(zip(xs, values, strict=True)):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = y_of(value)
        segment.append(f"{x:.1f},{y:.1f}")
        dots.append(
            _marker(
                "circle",
                x,
                y,
                "#2d5a5f",
                f"Turn {index + 1}: {signed(value)}, {BALANCE_LABELS[value]}",
            )
        )
    if segment:
        segments.append(segment)
    for part in segments:
        if len(part) > 1:
            out.append(
                f'<polyline points="{" ".join(part)}" fill="none" stroke="#2d5a5f" '
                'stroke-width="2"/>'
            )
    out += dots
    out.append("</svg>")
    return "\n".join(out)
