"""The report's SVG charts and its Markdown and JSON exports, from a report built in memory."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from app.evaluator.schema import DIMENSIONS
from app.reports import charts, export
from app.reports.builder import build_report
from app.reports.model import ClientRating, SessionReport, TurnPoint, report_json_schema
from tests.test_report_builder import START, five_turns

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "Farid & <script>alert('x')</script> \"quoted\""


def report(**session: object) -> SessionReport:
    return build_report(
        five_turns().view(**session),
        client_rating=ClientRating(score=3, text="It was <i>all right</i>.", source="model"),
        generated_at=START,
    )


def point(number: int, scores: dict[str, int | None], balance: int | None) -> TurnPoint:
    return TurnPoint(
        number=number,
        turn_id=str(number),
        trainee_text="x",
        reply_text=None,
        reply_status="complete",
        has_critique=balance is not None,
        critique_source="llm",
        scores={name: scores.get(name) for name in DIMENSIONS},
        direction_balance=balance,
        client_marker="none",
        repair_landed=None,
        rupture_after="none",
    )


def test_trajectory_svg_is_well_formed_with_escaped_text() -> None:
    r = report()
    svg = charts.trajectory_svg(r.turns, r.dimensions, title=HOSTILE)
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    assert "<script>" not in svg
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == HOSTILE
    assert root.get("aria-labelledby") == "trajectory-chart-title trajectory-chart-desc"
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text is not None
    assert "Recognition: mean 1.40 of 3 over 5 scored turns" in desc.text
    # One group per dimension; a marker for each scored turn, none for the gaps.
    groups = {g.get("class"): g for g in root.iter(f"{SVG}g")}
    recognition = groups["chart__series chart__series--recognition"]
    tips = [t.text for t in recognition.iter(f"{SVG}title")]
    assert tips == [f"Turn {n}, Recognition: {s} of 3" for n, s in enumerate([1, 1, 1, 3, 1], 1)]
    power = groups["chart__series chart__series--power_awareness"]
    assert [t.text for t in power.iter(f"{SVG}title")] == ["Turn 4, Noticing power: 2 of 3"]
    # A lone point draws no line; five in a row draw one.
    assert power.find(f"{SVG}polyline") is None
    assert len(recognition.findall(f"{SVG}polyline")) == 1
    # No inline style attributes (the Content Security Policy forbids them).
    assert all("style" not in element.attrib for element in root.iter())


def test_gaps_split_a_line_and_an_empty_session_says_so() -> None:
    points = [
        point(1, {"recognition": 1}, 0),
        point(2, {"recognition": 2}, 0),
        point(3, {}, None),
        point(4, {"recognition": 3}, 1),
        point(5, {"recognition": 3}, 2),
    ]
    r = report()
    root = ET.fromstring(charts.trajectory_svg(points, r.dimensions, title="t"))
    series = next(g for g in root.iter(f"{SVG}g") if "recognition" in (g.get("class") or ""))
    assert len(series.findall(f"{SVG}polyline")) == 2
    empty = ET.fromstring(charts.trajectory_svg([], r.dimensions, title="t"))
    assert any(t.text == "No turns yet." for t in empty.iter(f"{SVG}text"))
    balance = ET.fromstring(
        charts.balance_svg([0, None, 1, -2], title="b", summary=HOSTILE, chart_id="b1")
    )
    assert balance.get("id") == "b1"
    desc = balance.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == HOSTILE
    assert len(balance.findall(f"{SVG}circle")) == 3
    assert [t.text for t in balance.iter(f"{SVG}title")][1:] == [
        "Turn 1: 0, balanced",
        "Turn 3: +1, leaning towards mirroring",
        "Turn 4: −2, directing / fixing",
    ]


def test_many_turns_label_every_few_turns() -> None:
    points = [point(n, {"recognition": 2}, 0) for n in range(1, 31)]
    root = ET.fromstring(charts.trajectory_svg(points, report().dimensions, title="t"))
    labels = [
        t.text for t in root.iter(f"{SVG}text") if (t.text or "").isdigit() and t.text not in "0123"
    ]
    assert labels == ["4", "7", "10", "13", "16", "19", "22", "25", "28", "30"]


def test_markdown_escapes_text_and_keeps_the_sections() -> None:
    r = report(opening="<b>Hi</b> | *there*")
    text = export.to_markdown(r)
    assert text.startswith("# Session report: Farid Haddad\n")
    assert "**Farid Haddad:** \\<b\\>Hi\\</b\\> \\| \\*there\\*" in text
    assert "| Bond | 1.50 | recognition and authenticity ratings (10 ratings) |" in text
    assert "| 5 | 1 | 2 | 0 | – | 2 | −2 |" in text
    assert "| Mean | 1.40 | 1.60 | 1.00 | 2.00 | 2.00 | |" in text
    assert (
        "- Turn 3: a withdrawal rupture opened. Met at turn 4: “I think I lost you just now, "
        "and I'm sorry. I'm here and I want to hear it.”. Repaired (closed after turn 4). "
        "The judge read the repair as landing."
    ) in text
    assert "- **Repairing a rupture** (turn 4)." in text
    assert "- **Collaboration** (turns 1, 2, 3, 5)." in text
    assert "  You might try: “Would it help to look at the nights together?”" in text
    assert "> It was \\<i\\>all right\\</i\\>." in text
    assert "(written by the client's model)" in text


def test_json_export_round_trips_and_matches_the_schema() -> None:
    r = report()
    document = json.loads(export.to_json(r))
    schema = report_json_schema()
    jsonschema.validate(document, schema)
    assert SessionReport.model_validate(document) == r
    assert schema["properties"]["schema"]["const"] == "alliance.session-report"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "alliance": [{"facet": "bond"}]}, schema)


@pytest.mark.parametrize(
    ("persona_id", "expected"),
    [
        ("farid-anxious", "session-report-farid-anxious-20260302-ssssssss.md"),
        ('x"; rm -rf /', "session-report-xrm-rf-20260302-ssssssss.md"),
        ("", "session-report-session-20260302-ssssssss.md"),
    ],
)
def test_download_names_are_safe(persona_id: str, expected: str) -> None:
    r = report().model_copy(update={"persona_id": persona_id})
    assert export.filename(r, "md") == expected
