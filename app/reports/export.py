"""Exports of a session report: Markdown for people, JSON (schema v1) for tools.

Text written by trainees and models is escaped for Markdown, so it cannot turn into headings,
links or raw HTML when the file is opened in a Markdown viewer.
"""

from __future__ import annotations

import json
import re

from app.reports.model import (
    BALANCE_LABELS,
    DIMENSION_LABELS,
    Observation,
    SessionReport,
    signed,
)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def md_text(text: str) -> str:
    """Escape text for inline use in Markdown, always after a prefix on its line (so list and
    heading markers at a line start cannot arise); line breaks become spaces."""
    flat = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def _score(value: int | None) -> str:
    return "–" if value is None else str(value)


def _turns(numbers: list[int]) -> str:
    label = "turn" if len(numbers) == 1 else "turns"
    return f"{label} {', '.join(str(n) for n in numbers)}"


def _observation(item: Observation) -> list[str]:
    lines = [
        f"- **{md_text(item.title)}** ({_turns(item.turns)}). {md_text(item.detail)}",
        f"  > Turn {item.quote_turn}: “{md_text(item.quote)}”",
    ]
    if item.suggestion:
        lines.append(f"  You might try: “{md_text(item.suggestion)}”")
    return lines


def to_markdown(report: SessionReport) -> str:
    r = report
    out = [
        f"# Session report: {md_text(r.persona_name)}",
        "",
        f"- Client: {md_text(r.persona_name)} ({md_text(r.attachment_style)} attachment)",
        f"- Session: {r.session_id} · {'ended' if r.status == 'ended' else 'still open'}"
        f" · started {r.created_at:%Y-%m-%d %H:%M} UTC",
        f"- Time: {r.minutes_elapsed:.0f} of {r.planned_minutes} planned minutes · "
        f"{len(r.turns)} trainee turns on this path",
        f"- Models: client {md_text(r.client_label)}; critique {md_text(r.evaluator_label)}",
    ]
    if r.branched:
        out.append("- Some turns were tried differently; this report follows the latest path.")
    out += ["", "## Working alliance (0–3)", "", "| Facet | Score | Based on |", "|---|---|---|"]
    for a in r.alliance:
        shown = f"{a.score:.2f}" + (" (no evidence: midpoint)" if a.no_evidence else "")
        out.append(f"| {a.label} | {shown} | {md_text(a.basis)} ({a.evidence_count} ratings) |")
    out += ["", "## Dimensions turn by turn (0–3; – not scored)", ""]
    out.append("| Turn | " + " | ".join(DIMENSION_LABELS.values()) + " | Direction |")
    out.append("|---" * (len(DIMENSION_LABELS) + 2) + "|")
    for p in r.turns:
        cells = [_score(p.scores[name]) for name in DIMENSION_LABELS]
        direction = "–" if p.direction_balance is None else signed(p.direction_balance)
        note = "" if p.has_critique else " (no critique)"
        out.append(f"| {p.number}{note} | " + " | ".join(cells) + f" | {direction} |")
    means = ["–" if d.mean is None else f"{d.mean:.2f}" for d in r.dimensions]
    out.append("| Mean | " + " | ".join(means) + " | |")
    out += ["", "## Direction balance", "", md_text(r.balance.summary), "", "## Ruptures", ""]
    if not r.ruptures:
        out.append("No rupture opened on this path.")
    for e in r.ruptures:
        line = f"- Turn {e.opened_at}: a {e.kind} rupture opened. "
        if e.met_at is None:
            line += "It has not been met yet."
        else:
            line += f"Met at turn {e.met_at}: “{md_text(e.met_with or '')}”. "
            if e.outcome == "repaired":
                line += f"Repaired (closed after turn {e.repaired_at})."
            else:
                line += "Still open."
            if e.judge_repair_landed is not None:
                line += " The judge read the repair as " + (
                    "landing." if e.judge_repair_landed else "not yet landing."
                )
        out.append(line)
        if e.suggestion and e.outcome != "repaired":
            out.append(f"  You might try: “{md_text(e.suggestion)}”")
    out += ["", "## Strengths", ""]
    out += [line for item in r.strengths for line in _observation(item)] or ["None clear yet."]
    out += ["", "## Growth edges", ""]
    out += [line for item in r.growth_edges for line in _observation(item)] or ["None clear yet."]
    c = r.client_rating
    out += [
        "",
        f"## {md_text(r.persona_name)}’s view",
        "",
        f"> {md_text(c.text)}",
        "",
        f"Alliance as the client rates it: {c.score} of 7"
        + (" (written by the client's model)" if c.source == "model" else ""),
        "",
        "## The conversation (this path)",
        "",
        f"**{md_text(r.persona_name)}:** {md_text(r.opening)}",
        "",
    ]
    for p in r.turns:
        out += [f"**Turn {p.number}, you:** {md_text(p.trainee_text)}", ""]
        if p.reply_text:
            out += [f"**{md_text(r.persona_name)}:** {md_text(p.reply_text)}", ""]
        elif p.reply_status == "failed":
            out += ["*(no reply: the client's model failed on this turn)*", ""]
        if p.direction_balance is not None:
            out += [f"*Direction: {BALANCE_LABELS[p.direction_balance]}.*", ""]
    out.append(f"*Generated {r.generated_at:%Y-%m-%d %H:%M} UTC.*")
    return "\n".join(out) + "\n"


def to_json(report: SessionReport) -> str:
    return json.dumps(report.export(), ensure_ascii=False, indent=2) + "\n"


def filename(report: SessionReport, extension: str) -> str:
    """A safe download name: persona id, date and the start of the session id."""
    safe_persona = re.sub(r"[^a-z0-9-]", "", report.persona_id.lower())[:40] or "session"
    return (
        f"session-report-{safe_persona}-{report.created_at:%Y%m%d}-"
        f"{report.session_id[:8]}.{extension}"
    )
