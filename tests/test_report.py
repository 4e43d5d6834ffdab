"""The session report through the HTTP API, on sessions stored by real turns (SQLite and
PostgreSQL): with the offline scripted model, and with a judge double whose critiques are known
so that every figure can be asserted exactly."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest

from app.dialogue.state import ClientState
from app.errors import AllianceError, LLMUnavailable
from app.evaluator.schema import DIMENSIONS
from app.llm.base import ChatRequest, JsonCompletion, StreamChunk
from app.reports.client_voice import persona_rating
from app.reports.model import SessionReport
from app.storage.tables import Turn
from tests.conftest import AppHarness
from tests.doubles import FunctionModel, words
from tests.test_report_builder import ATTUNED, DIRECTIVE, DISTANT, critique_payload

# Named personas, so that adding personas to the library does not change the sessions here.
PERSONA = {"anxious": "farid-anxious", "secure": "daniel-secure"}


def persona_of_style(h: AppHarness, style: str) -> str:
    assert PERSONA[style] in h.services.personas
    return PERSONA[style]


async def talk(h: AppHarness, session_id: str, texts: list[str]) -> list[str]:
    """Send turns one after another on one path; returns their ids."""
    ids: list[str] = []
    for text in texts:
        events = await h.turn(session_id, text, parent_id=ids[-1] if ids else None)
        ids.append(events[0][1]["turn_id"])
    return ids


async def end(h: AppHarness, session_id: str) -> None:
    response = await h.client.post(f"/api/sessions/{session_id}/end", headers=h.headers())
    assert response.status_code == 200, response.text


async def report_of(h: AppHarness, session_id: str) -> dict[str, Any]:
    response = await h.client.get(f"/api/sessions/{session_id}/report")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- the offline demo model -------------------------------------------------------------------


async def test_report_of_an_offline_session_agrees_with_its_stored_turns(
    harness: AppHarness,
) -> None:
    await harness.sign_in()
    session = await harness.start(persona_of_style(harness, "anxious"))
    texts = [
        "Hello, I'm glad you came. Where would you like to start today?",
        "It sounds like it has been a really hard few weeks, and you've been carrying it alone.",
        "You should try going to bed earlier and stop checking your phone.",
        "I notice I jumped to advice just now. How was that for you?",
    ]
    await talk(harness, session["id"], texts)
    await end(harness, session["id"])
    report = await report_of(harness, session["id"])
    stored = (await harness.client.get(f"/api/sessions/{session['id']}")).json()["turns"]

    assert report["status"] == "ended"
    assert report["ended_at"] is not None
    assert [t["trainee_text"] for t in report["turns"]] == texts
    assert [t["reply_text"] for t in report["turns"]] == [t["reply"] for t in stored]
    for point, turn in zip(report["turns"], stored, strict=True):
        critique = turn["critique"]
        assert point["has_critique"] is True
        assert point["critique_source"] == "offline"
        assert point["scores"] == {name: critique[name]["score"] for name in DIMENSIONS}
        assert point["direction_balance"] == critique["direction_balance"]
    # The advice turn is read as directing, and the drift follows the stored values.
    assert report["balance"]["values"] == [t["critique"]["direction_balance"] for t in stored]
    assert report["balance"]["values"][2] < 0
    # Bond from recognition and authenticity, recomputed here from the stored critiques.
    bond = [
        t["critique"][d]["score"]
        for t in stored
        for d in ("recognition", "authenticity")
        if t["critique"][d]["score"] is not None
    ]
    facets = {a["facet"]: a for a in report["alliance"]}
    assert facets["bond"]["score"] == round(sum(bond) / len(bond), 2)
    assert facets["bond"]["evidence_count"] == len(bond)
    # Every strength and edge names real turns and quotes the trainee's own words.
    assert 2 <= len(report["strengths"]) <= 3
    assert 1 <= len(report["growth_edges"]) <= 2
    for item in report["strengths"] + report["growth_edges"]:
        assert set(item["turns"]) <= {1, 2, 3, 4}
        assert item["quote_turn"] in item["turns"]
        assert item["quote"].rstrip("…") in texts[item["quote_turn"] - 1]
    # The client's own rating comes from its final stored state, in the persona's voice.
    async with harness.services.database.session() as db:
        last = await db.get(Turn, report["turns"][-1]["turn_id"])
    assert last is not None
    assert last.state_after is not None
    persona = harness.services.personas[report["persona_id"]]
    expected = persona_rating(persona, ClientState.model_validate(last.state_after), turns=4)
    assert report["client_rating"] == expected.model_dump(mode="json")
    SessionReport.model_validate(report)


# -- a judge double with known critiques ------------------------------------------------------

TURNS = [
    ("Mm. Go on.", critique_payload(DISTANT, 1)),
    ("I see.", critique_payload(DISTANT, 1)),
    ("Okay. And then?", critique_payload(DISTANT, 1)),
    (
        "I think I lost you just now, and I'm sorry. I'm here and I want to hear it.",
        critique_payload(
            ATTUNED,
            0,
            marker="withdraw",
            evidence={"recognition": "I'm here and I want to hear it"},
        ),
    ),
    (
        "You should stop checking your phone at night. We have ten minutes left.",
        critique_payload(
            DIRECTIVE,
            -2,
            # The turn before was a repair attempt: the judge says whether it landed.
            repair=True,
            evidence={"collaboration": "You should stop checking your phone at night."},
            alternative="Would it help to look at the nights together?",
        ),
    ),
]
KNOWN = dict(TURNS)


def known_judge(extra: dict[str, Any] | None = None) -> FunctionModel:
    table = {**KNOWN, **(extra or {})}

    async def judge(request: ChatRequest) -> JsonCompletion:
        text = request.scene.trainee_text
        critique = table[text]
        if isinstance(critique, Exception):
            raise critique
        # A judge must quote the trainee for every applicable rating.
        for name in DIMENSIONS:
            rating = critique[name]
            if rating["applicable"] and not rating["evidence"]:
                critique = {**critique, name: {**rating, "evidence": text}}
        return JsonCompletion(text=json.dumps(critique))

    return FunctionModel(complete_json=judge, label="judge double")


async def test_known_critiques_give_exact_trajectory_alliance_ruptures_and_picks(
    make_harness: Any,
) -> None:
    async with make_harness(evaluator_model=known_judge()) as h:
        await h.sign_in()
        session = await h.start(persona_of_style(h, "anxious"))
        await talk(h, session["id"], [text for text, _ in TURNS])
        report = await report_of(h, session["id"])

    assert {name: [t["scores"][name] for t in report["turns"]] for name in DIMENSIONS} == {
        "recognition": [1, 1, 1, 3, 1],
        "authenticity": [1, 1, 1, 3, 2],
        "collaboration": [1, 1, 1, 2, 0],
        "power_awareness": [None, None, None, 2, None],
        "boundaries": [None, None, None, None, 2],
    }
    assert {a["facet"]: a["score"] for a in report["alliance"]} == {
        "bond": 1.5,
        "task": 1.29,
        "goal": 1.25,
    }
    assert report["balance"]["values"] == [1, 1, 1, 0, -2]
    assert report["balance"]["drift"] == -1.33
    # An anxious client met by three distant turns withdraws; a present, recognising reply
    # repairs it (the client-state rules, applied by the engine to the known critiques).
    assert [t["rupture_after"] for t in report["turns"]] == [
        "none",
        "none",
        "withdrawal",
        "none",
        "none",
    ]
    (episode,) = report["ruptures"]
    assert episode["opened_at"] == 3
    assert episode["kind"] == "withdrawal"
    assert episode["met_at"] == 4
    assert episode["met_with"] == TURNS[3][0]
    assert episode["judge_repair_landed"] is True
    assert (episode["repaired_at"], episode["outcome"]) == (4, "repaired")
    assert [(s["key"], s["turns"]) for s in report["strengths"]] == [
        ("repair", [4]),
        ("power_awareness", [4]),
        ("boundaries", [5]),
    ]
    assert [(e["key"], e["turns"], e["quote"]) for e in report["growth_edges"]] == [
        ("collaboration", [1, 2, 3, 5], "You should stop checking your phone at night."),
        ("recognition", [1, 2, 3, 5], "Mm. Go on."),
    ]
    assert (
        report["growth_edges"][0]["suggestion"] == "Would it help to look at the nights together?"
    )
    assert report["client_rating"]["source"] == "persona"
    assert report["evaluator_label"] == "judge double"


async def test_a_failed_reply_and_a_turn_without_critique_are_shown_as_gaps(
    make_harness: Any,
) -> None:
    async def client(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        if "REPLY-FAILS" in request.scene.trainee_text:
            raise LLMUnavailable("The client's model server is not answering. Try again shortly.")
        async for chunk in words("Okay. I suppose so."):
            yield chunk

    judge = known_judge(
        {
            "Tell me more. REPLY-FAILS": critique_payload(DISTANT, 2),
            "Go on then.": AllianceError("The judge could not be reached."),
        }
    )
    async with make_harness(
        client_model=FunctionModel(stream=client, label="client double"), evaluator_model=judge
    ) as h:
        await h.sign_in()
        session = await h.start(persona_of_style(h, "secure"))
        await talk(h, session["id"], ["Mm. Go on.", "Tell me more. REPLY-FAILS", "Go on then."])
        report = await report_of(h, session["id"])
        markdown = (await h.client.get(f"/api/sessions/{session['id']}/report.md")).text
        page = (await h.client.get(f"/sessions/{session['id']}/report")).text

    first, failed, uncritiqued = report["turns"]
    assert (first["reply_status"], first["has_critique"]) == ("complete", True)
    # The reply failed, but the trainee's turn was still critiqued.
    assert failed["reply_status"] == "failed"
    assert failed["reply_text"] is None
    assert failed["has_critique"] is True
    assert failed["direction_balance"] == 2
    # No critique: no scores, no direction, no state change read into it.
    assert uncritiqued["reply_status"] == "complete"
    assert uncritiqued["has_critique"] is False
    assert set(uncritiqued["scores"].values()) == {None}
    assert uncritiqued["direction_balance"] is None
    assert uncritiqued["rupture_after"] is None
    assert report["balance"]["values"] == [1, 2, None]
    assert {a["facet"]: a["evidence_count"] for a in report["alliance"]} == {
        "bond": 4,
        "task": 2,
        "goal": 4,
    }
    assert "| 3 (no critique) | – | – | – | – | – | – |" in markdown
    assert "*(no reply: the client's model failed on this turn)*" in markdown
    assert "No reply: the client’s model failed on this turn." in page
    assert "(no critique)" in page


async def test_the_report_follows_the_latest_branch(make_harness: Any) -> None:
    async with make_harness(evaluator_model=known_judge()) as h:
        await h.sign_in()
        session = await h.start(persona_of_style(h, "anxious"))
        first, _abandoned = await talk(h, session["id"], ["Mm. Go on.", "I see."])
        await h.turn(session["id"], "Okay. And then?", parent_id=first)
        report = await report_of(h, session["id"])
    assert report["branched"] is True
    assert [t["trainee_text"] for t in report["turns"]] == ["Mm. Go on.", "Okay. And then?"]


# -- exports and privacy ----------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script> **bold** [link](http://example.org) | pipe & more"


async def test_exports_are_downloads_and_the_json_follows_its_schema(harness: AppHarness) -> None:
    await harness.sign_in()
    session = await harness.start(persona_of_style(harness, "secure"))
    await talk(harness, session["id"], ["What would you like to focus on today?", HOSTILE])
    base = f"/api/sessions/{session['id']}"

    md = await harness.client.get(f"{base}/report.md")
    assert md.status_code == 200
    assert md.headers["content-type"] == "text/markdown; charset=utf-8"
    disposition = md.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="session-report-')
    assert disposition.endswith(f'-{session["id"][:8]}.md"')
    assert md.headers["cache-control"] == "private, no-store"
    text = md.text
    for heading in (
        "# Session report: ",
        "## Working alliance (0–3)",
        "## Dimensions turn by turn",
        "## Direction balance",
        "## Ruptures",
        "## Strengths",
        "## Growth edges",
        "## The conversation (this path)",
    ):
        assert heading in text
    assert "**Turn 1, you:** What would you like to focus on today?" in text
    # The trainee's text cannot become markup in a Markdown viewer.
    assert "<script>" not in text
    assert (
        "\\<script\\>alert(1)\\</script\\> \\*\\*bold\\*\\* \\[link\\](http://example.org) "
        "\\| pipe & more" in text
    )
    assert "still open" in text

    downloaded = await harness.client.get(f"{base}/report.json")
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "application/json"
    assert downloaded.headers["content-disposition"].endswith('.json"')
    document = downloaded.json()
    schema = (await harness.client.get("/api/reports/schema.json")).json()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    assert document["schema"] == "alliance.session-report"
    assert document["version"] == 1
    assert document["turns"][1]["trainee_text"] == HOSTILE
    # A document that breaks the schema is refused by it (the check can fail).
    broken = {**document, "turns": [{**document["turns"][0], "number": 0}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


async def test_reports_are_private_to_their_owner(make_harness: Any) -> None:
    async with make_harness() as h:
        await h.sign_in("Owner")
        session = await h.start(persona_of_style(h, "secure"))
        await talk(h, session["id"], ["Hello."])
        paths = [
            f"/api/sessions/{session['id']}/report",
            f"/api/sessions/{session['id']}/report.md",
            f"/api/sessions/{session['id']}/report.json",
            f"/sessions/{session['id']}/report",
        ]
        for path in paths:
            assert (await h.client.get(path)).status_code == 200
        await h.sign_in("Someone Else")
        for path in paths:
            theirs = await h.client.get(path)
            missing = await h.client.get(path.replace(session["id"], uuid.uuid4().hex))
            assert theirs.status_code == 404
            assert theirs.json() == missing.json()
            assert "Hello." not in theirs.text
        h.client.cookies.clear()
        for path in paths[:3]:
            assert (await h.client.get(path)).status_code == 401
        page = await h.client.get(paths[3], follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == "/"


async def test_report_page_escapes_text_and_carries_accessible_charts(harness: AppHarness) -> None:
    import xml.etree.ElementTree as ET

    await harness.sign_in()
    session = await harness.start(persona_of_style(harness, "anxious"))
    await talk(harness, session["id"], ["It sounds hard.", HOSTILE, "What would help most?"])
    response = await harness.client.get(f"/sessions/{session['id']}/report")
    assert response.status_code == 200
    html = response.text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **bold**" in html
    assert response.headers["cache-control"] == "private, no-store"
    for section in (
        "alliance-heading",
        "trajectory-heading",
        "balance-heading",
        "ruptures-heading",
        "strengths-heading",
        "edges-heading",
        "client-heading",
    ):
        assert f'id="{section}"' in html
    ns = {"svg": "http://www.w3.org/2000/svg"}
    charts = []
    start = 0
    while (begin := html.find("<svg", start)) != -1:
        finish = html.index("</svg>", begin) + len("</svg>")
        charts.append(ET.fromstring(html[begin:finish]))
        start = finish
    assert len(charts) == 2
    trajectory, balance = charts
    for chart in charts:
        assert chart.get("role") == "img"
        title_id, desc_id = chart.get("aria-labelledby", "").split()
        assert chart.find("svg:title", ns).get("id") == title_id
        assert chart.find("svg:desc", ns).get("id") == desc_id
    assert "Farid" in trajectory.find("svg:title", ns).text
    # One marker per scored turn and dimension, each named for people using a screen reader.
    tips = [t.text for t in trajectory.iter("{http://www.w3.org/2000/svg}title")][1:]
    scored = sum(
        1
        for t in (await report_of(harness, session["id"]))["turns"]
        for s in t["scores"].values()
        if s is not None
    )
    assert len([t for t in tips if t.startswith("Turn ")]) == scored
    assert len(balance.findall(".//svg:circle", ns)) == 3
    # The text alternative: a table with a row per turn.
    assert html.count('<th scope="row">') >= 4


async def test_the_client_model_can_give_the_rating_when_configured(
    make_harness: Any, caplog: pytest.LogCaptureFixture
) -> None:
    rating_asks: list[ChatRequest] = []
    broken = {"on": False}

    async def client(request: ChatRequest) -> AsyncIterator[StreamChunk]:
        if request.scene is None:  # the rating request carries no scene
            rating_asks.append(request)
            if broken["on"]:
                raise LLMUnavailable("The client's model server is not answering.")
            async for chunk in words("Honestly? You stayed with me. <b>Mostly.</b>"):
                yield chunk
            return
        async for chunk in words("Right. Well. It's been a week."):
            yield chunk

    async with make_harness(
        client_model=FunctionModel(stream=client, label="client double"),
        report_client_voice="model",
    ) as h:
        await h.sign_in()
        session = await h.start(persona_of_style(h, "secure"))
        await talk(h, session["id"], ["What would you like to talk about today?"])
        # While the session is open, the offline persona voice answers.
        assert (await report_of(h, session["id"]))["client_rating"]["source"] == "persona"
        assert rating_asks == []
        await end(h, session["id"])
        rating = (await report_of(h, session["id"]))["client_rating"]
        assert rating["source"] == "model"
        assert rating["text"] == "Honestly? You stayed with me. <b>Mostly.</b>"
        page = (await h.client.get(f"/sessions/{session['id']}/report")).text
        assert "You stayed with me. &lt;b&gt;Mostly.&lt;/b&gt;" in page
        # Asked once, then kept for this path.
        await report_of(h, session["id"])
        assert len(rating_asks) == 1
        system, user = rating_asks[0].messages
        assert "The session with a trainee counsellor has just ended" in system.content
        assert "What would you like to talk about today?" in user.content

        # A failing model falls back to the persona voice, labelled, and logs no text.
        second = await h.start(persona_of_style(h, "secure"))
        await talk(h, second["id"], ["Where shall we begin, do you think?"])
        await end(h, second["id"])
        broken["on"] = True
        with caplog.at_level(logging.DEBUG):
            fallback = (await report_of(h, second["id"]))["client_rating"]
        assert fallback["source"] == "persona_fallback"
        assert fallback["text"]
        assert "fell back to the persona voice" in caplog.text
        assert "Where shall we begin" not in caplog.text
