"""Pause, resume and end; the conversation tree; hints; past sessions; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from app.evaluator.hints import hint_for
from app.history import sparkline, trend
from tests.conftest import AppHarness


def a_persona(h: AppHarness, style: str = "anxious") -> str:
    return next(p.id for p in h.services.personas.values() if p.style == style)


def first(events: list[tuple[str, dict[str, Any]]], name: str) -> dict[str, Any]:
    return next(d for n, d in events if n == name)


async def test_pause_stops_turns_until_resumed_and_end_is_final(harness: AppHarness) -> None:
    await harness.sign_in()
    session = await harness.start(a_persona(harness))
    sid = session["id"]
    base = f"/api/sessions/{sid}"

    refused = await harness.client.post(f"{base}/pause")
    assert refused.status_code == 403  # no CSRF header

    paused = await harness.client.post(f"{base}/pause", headers=harness.headers())
    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    again = await harness.client.post(f"{base}/pause", headers=harness.headers())
    assert again.json()["status"] == "paused"

    blocked = await harness.client.post(
        f"{base}/turns",
        json={"text": "Are you still there?", "idempotency_key": "paused-turn-1"},
        headers=harness.headers(),
    )
    assert blocked.status_code == 409
    assert "paused" in blocked.json()["detail"]
    assert (await harness.client.get(base)).json()["status"] == "paused"

    resumed = await harness.client.post(f"{base}/resume", headers=harness.headers())
    assert resumed.json()["status"] == "active"
    events = await harness.turn(sid, "Thank you for waiting. Where were we?")
    assert "reply" in [n for n, _ in events]

    ended = await harness.client.post(f"{base}/end", headers=harness.headers())
    assert ended.json()["status"] == "ended"
    assert ended.json()["ended_at"]
    assert (await harness.client.post(f"{base}/end", headers=harness.headers())).status_code == 200
    no_resume = await harness.client.post(f"{base}/resume", headers=harness.headers())
    assert no_resume.status_code == 409
    late = await harness.client.post(
        f"{base}/turns",
        json={"text": "One more thing", "idempotency_key": "ended-turn-1"},
        headers=harness.headers(),
    )
    assert late.status_code == 409
    assert "ended" in late.json()["detail"]


async def test_only_the_owner_controls_or_reads_a_session(harness: AppHarness) -> None:
    await harness.sign_in("Owner")
    sid = (await harness.start(a_persona(harness)))["id"]
    await harness.sign_in("Someone Else")
    for action in ("pause", "resume", "end"):
        response = await harness.client.post(
            f"/api/sessions/{sid}/{action}", headers=harness.headers()
        )
        assert response.status_code == 404, action
    assert (await harness.client.get(f"/api/sessions/{sid}/turns")).status_code == 404
    assert (await harness.client.get(f"/api/sessions/{sid}/hint")).status_code == 404
    assert (await harness.client.get("/api/sessions")).json() == []


async def test_the_tree_keeps_every_version_of_a_turn(harness: AppHarness) -> None:
    await harness.sign_in()
    sid = (await harness.start(a_persona(harness)))["id"]
    one = first(await harness.turn(sid, "Hello, where would you like to start?"), "turn")
    two = first(
        await harness.turn(sid, "You should just relax more.", parent_id=one["turn_id"]), "turn"
    )
    redo = first(
        await harness.turn(
            sid, "It sounds like a lot to carry on your own.", parent_id=one["turn_id"]
        ),
        "turn",
    )
    tree = (await harness.client.get(f"/api/sessions/{sid}/turns")).json()
    ids = [t["id"] for t in tree["turns"]]
    assert ids == [one["turn_id"], two["turn_id"], redo["turn_id"]]
    assert [t["parent_id"] for t in tree["turns"]] == [None, one["turn_id"], one["turn_id"]]
    assert tree["latest_id"] == redo["turn_id"]
    assert all(t["reply_status"] == "complete" and t["critique"] for t in tree["turns"])
    # The session read (and the report) follows the latest path.
    path = (await harness.client.get(f"/api/sessions/{sid}")).json()["turns"]
    assert [t["id"] for t in path] == [one["turn_id"], redo["turn_id"]]


def first_turn(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return first(events, "turn")


async def test_a_hint_reads_the_clients_last_line(harness: AppHarness) -> None:
    await harness.sign_in()
    sid = (await harness.start(a_persona(harness)))["id"]
    opening = await harness.client.get(f"/api/sessions/{sid}/hint")
    assert opening.status_code == 200
    assert "start" in opening.json()["hint"]
    turn = first_turn(await harness.turn(sid, "Hello. What brings you here today?"))
    after = await harness.client.get(f"/api/sessions/{sid}/hint", params={"after": turn["turn_id"]})
    assert after.status_code == 200
    assert after.json()["hint"] != opening.json()["hint"]
    missing = await harness.client.get(f"/api/sessions/{sid}/hint", params={"after": "nope"})
    assert missing.status_code == 404
    assert "turn" in missing.json()["detail"]


def test_hints_follow_the_move_the_client_makes() -> None:
    common: dict[str, Any] = {"trainee_has_spoken": True, "minutes_elapsed": 10.0}
    defer = hint_for(
        "What do you think I should do? You're the expert.",
        style="anxious",
        planned_minutes=50,
        **common,
    )
    assert defer.marker == "defer"
    assert "authority" in defer.text
    assert "anxious" in defer.text
    plain = hint_for("I went to work on Monday.", style="secure", planned_minutes=50, **common)
    assert plain.marker == "none"
    assert "stay close" in plain.text
    late = hint_for("I went to work on Monday.", style="secure", planned_minutes=12, **common)
    assert "nearly up" in late.text
    # The hint never quotes the client.
    assert "Monday" not in plain.text + late.text


async def test_past_sessions_summarise_the_path_taken(harness: AppHarness) -> None:
    await harness.sign_in()
    first_sid = (await harness.start(a_persona(harness)))["id"]
    t1 = first_turn(
        await harness.turn(first_sid, "Hello, I'm glad you came. Where shall we begin?")
    )
    await harness.turn(first_sid, "You should try going to bed earlier.", parent_id=t1["turn_id"])
    second_sid = (await harness.start(a_persona(harness, "avoidant")))["id"]
    await harness.turn(second_sid, "Welcome. Take your time; where would you like to start?")

    listed = (await harness.client.get("/api/sessions")).json()
    assert [s["id"] for s in listed] == [first_sid, second_sid]
    assert [s["turns"] for s in listed] == [2, 1]
    first_row = listed[0]
    assert set(first_row["dimension_means"]) == {
        "recognition",
        "authenticity",
        "collaboration",
        "power_awareness",
        "boundaries",
    }
    scores = [v for v in first_row["dimension_means"].values() if v is not None]
    assert scores
    assert all(0 <= v <= 3 for v in scores)
    assert first_row["overall"] is not None
    assert first_row["minutes"] > 0

    page = await harness.client.get("/history")
    assert page.status_code == 200
    assert f'href="/sessions/{first_sid}"' in page.text
    assert f'href="/sessions/{second_sid}"' in page.text
    assert "<polyline" in page.text
    assert "style=" not in page.text
    anonymous = await harness.client.get("/history", headers={"Cookie": ""})
    assert anonymous.status_code in (200, 303)


def test_the_trend_compares_recent_with_earlier_sessions() -> None:
    assert trend([1.0, 1.2, 2.0, 2.4]).startswith("Improving")
    assert trend([2.4, 2.0, 1.0, 1.2]).startswith("Lower")
    assert trend([2.0, None, 2.1]).startswith("Steady")
    assert trend([2.0]).startswith("Not enough")
    assert sparkline([2.0]) is None
    chart = sparkline([0.0, None, 3.0])
    assert chart is not None
    assert chart.dots == [(6.0, 54.0), (234.0, 6.0)]
