"""The persona library as a whole: coverage, depth, diversity, a session with every client, the CLI.

`test_personas.py` checks the format and its errors; this module checks what tutors rely on the
library to contain, plays a short practice session with every persona through the HTTP API on
the offline model, and runs `alliance personas validate` as a command.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import pytest
import yaml

from app.cli import main as cli_main
from app.evaluator.schema import Critique
from app.personas import AttachmentStyle, Persona, load_personas

if TYPE_CHECKING:
    from tests.conftest import AppHarness

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_DIR = ROOT / "personas"
LIBRARY = load_personas(LIBRARY_DIR)
IDS = sorted(LIBRARY)


def _with_focus(*kinds: str) -> list[Persona]:
    return [p for p in LIBRARY.values() if set(kinds) <= set(p.focus)]


# --- coverage ----------------------------------------------------------------------------------


def test_the_library_holds_at_least_ten_personas() -> None:
    assert len(LIBRARY) >= 10, sorted(LIBRARY)


@pytest.mark.parametrize("style", get_args(AttachmentStyle))
def test_every_style_comes_at_two_difficulties(style: str) -> None:
    levels = {p.difficulty for p in LIBRARY.values() if p.style == style}
    assert len(levels) >= 2, f"{style}: only {sorted(levels)}"


@pytest.mark.parametrize(
    ("kinds", "also_needs"),
    [
        (("defer", "flatter"), None),
        (("challenge", "test"), None),
        (("confidentiality_probe",), "confidentiality_probe"),
    ],
    ids=["deferring-and-flattering", "challenging-and-testing", "probing-confidentiality"],
)
def test_a_persona_specialises_in_each_power_move(
    kinds: tuple[str, ...], also_needs: str | None
) -> None:
    specialists = _with_focus(*kinds)
    assert specialists, f"no persona has focus {kinds}"
    for persona in specialists:
        for kind in kinds:
            moves = [m for m in persona.power_moves if m.kind == kind]
            assert sum(len(m.examples) for m in moves) >= 3, (persona.id, kind)
        if also_needs:
            events = {event.kind for event in persona.boundary_events}
            assert also_needs in events, persona.id


def test_a_mandated_client_faces_real_power() -> None:
    mandated = _with_focus("mandated")
    assert mandated, "no mandated persona"
    for persona in mandated:
        mandate = persona.identity.mandate
        assert mandate is not None
        assert persona.identity.referral in {"court", "probation", "employer"}, persona.id
        assert re.search(r"\breport", mandate.reported, re.I), "say what is reported"
        assert re.search(r"\bnot\b", mandate.reported, re.I), "say what is not reported"
        assert {"confidentiality_probe", "challenge"} <= {m.kind for m in persona.power_moves}
        objectives = " ".join(persona.learning_objectives).lower()
        assert "report" in objectives, persona.id
        assert "confidential" in objectives, persona.id


def test_only_mandated_personas_carry_a_mandate() -> None:
    for persona in LIBRARY.values():
        assert (persona.identity.mandate is not None) == ("mandated" in persona.focus), persona.id


def test_the_library_is_diverse() -> None:
    people = [p.identity for p in LIBRARY.values()]
    ages = [i.age for i in people]
    assert min(ages) <= 20, ages
    assert max(ages) >= 65, ages
    pronouns = {i.pronouns for i in people}
    assert {"she/her", "he/him", "they/them"} <= pronouns, pronouns
    referrals = Counter(i.referral for i in people)
    assert len(referrals) >= 6, referrals
    assert {"university", "employer", "probation", "self", "gp"} <= set(referrals), referrals
    assert max(referrals.values()) <= 0.4 * len(people), referrals
    first_names = [i.name.split()[0] for i in people]
    assert len(set(first_names)) == len(first_names), "first names must tell clients apart"


# --- depth of each persona ---------------------------------------------------------------------


@pytest.mark.parametrize("persona_id", IDS)
def test_each_persona_is_written_in_depth(persona_id: str) -> None:
    p = LIBRARY[persona_id]
    assert [layer.depth for layer in p.disclosure_layers] == ["surface", "deeper", "core"]
    surface, deeper, core = p.disclosure_layers
    assert surface.trust_required <= p.initial_trust < deeper.trust_required
    assert deeper.trust_required < core.trust_required
    for layer in p.disclosure_layers:
        assert len(layer.opening_lines) >= 2, (layer.id, "give two or more opening lines")
    for layer in (deeper, core):
        assert len(layer.hints) >= 2, (layer.id, "give the signs that come before it")
    assert len(p.opening_lines) >= 2
    assert len(p.attachment.markers) >= 4
    assert len({m.kind for m in p.power_moves}) >= 2
    for move in p.power_moves:
        assert len(move.examples) >= 2, (move.kind, "give several lines in the client's voice")
    times = {e.kind for e in p.boundary_events} & {"doorknob", "run_over"}
    assert times, "every client tests the time boundary somehow"
    assert len(p.speech.idioms) >= 3
    assert len(p.learning_objectives) >= 3
    assert p.content_warnings, "name the difficult material, however mild"
    assert len(p.tutor_notes.split()) >= 80, "tutor notes: good practice, traps, risk"
    assert len(p.history.split()) >= 80, "a history that explains the attachment style"


@pytest.mark.parametrize("persona_id", IDS)
def test_hidden_material_stays_in_its_layer(persona_id: str) -> None:
    """Distinctive words of the core layer do not leak into fields the client model always sees."""
    p = LIBRARY[persona_id]
    always_seen = " ".join(
        [
            p.summary,
            p.presenting_problem,
            p.history,
            p.transference,
            *p.opening_lines,
            *[e for m in p.power_moves for e in m.examples],
            *[line for e in p.boundary_events for line in e.lines],
        ]
    ).lower()
    for opening in p.disclosure_layers[-1].opening_lines:
        assert opening.lower() not in always_seen, opening


# --- the library's own voices ------------------------------------------------------------------


def _own_text(persona: Persona) -> str:
    return yaml.safe_dump(persona.model_dump(mode="json"), allow_unicode=True, width=10_000)


def _names(persona: Persona) -> set[str]:
    parts = persona.identity.name.split()
    return {parts[0], persona.identity.name}


def _others_names(persona: Persona) -> set[str]:
    own = _own_text(persona)
    return {
        name
        for other in LIBRARY.values()
        if other.id != persona.id
        for name in _names(other)
        if not re.search(rf"\b{re.escape(name)}\b", own)
    }


@pytest.mark.parametrize("persona_id", IDS)
def test_no_persona_borrows_another_clients_name(persona_id: str) -> None:
    persona = LIBRARY[persona_id]
    own = _own_text(persona)
    for other in LIBRARY.values():
        if other.id != persona.id:
            first = other.identity.name.split()[0]
            assert not re.search(rf"\b{re.escape(first)}\b", own), (persona.id, first)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?…])\s+", text) if len(s.split()) >= 3]


TRAINEE_TURNS = [
    "Hello, I'm glad you came in. Where would you like to start today?",
    "It sounds like you've been carrying a lot on your own, and it's been exhausting.",
    "You should try to get more sleep and talk to someone close to you about it.",
    "I notice I jumped in with advice just now. How was that for you?",
    "Before we go further: what you say here stays between us, unless there is a serious "
    "risk to you or someone else, and then I would talk with you first.",
    "We have about ten minutes left today. What would be most useful before we stop?",
]


@pytest.mark.parametrize("persona_id", IDS)
async def test_a_practice_session_with_every_persona(harness: AppHarness, persona_id: str) -> None:
    persona = LIBRARY[persona_id]
    await harness.sign_in()
    session = await harness.start(persona_id)
    assert session["opening"] in persona.opening_lines
    parent: str | None = None
    replies: list[str] = []
    for text in TRAINEE_TURNS:
        events = await harness.turn(session["id"], text, parent_id=parent)
        order = [name for name, _ in events]
        assert "error" not in order, events
        assert (order[0], order[-1]) == ("turn", "done")
        assert order.count("reply") == 1
        assert order.count("critique") == 1
        critique = Critique.model_validate(
            next(d for n, d in events if n == "critique")["critique"]
        )
        assert critique.source == "offline"
        reply = next(d for n, d in events if n == "reply")["text"].strip()
        assert reply
        parent = next(d for n, d in events if n == "turn")["turn_id"]
        replies.append(reply)

    read_back = (await harness.client.get(f"/api/sessions/{session['id']}")).json()
    assert [t["trainee_text"] for t in read_back["turns"]] == TRAINEE_TURNS
    assert all(t["reply_status"] == "complete" and t["critique"] for t in read_back["turns"])

    # In this persona's voice: most replies speak a line written for this client, and none
    # names another client or slips out of role.
    own = _own_text(persona)
    own_lines = [r for r in replies if any(s.rstrip(".") in own for s in _sentences(r))]
    assert len(own_lines) >= 2, (persona.id, replies)
    spoken = " ".join(replies)
    for name in _others_names(persona):
        assert not re.search(rf"\b{re.escape(name)}\b", spoken), (name, replies)
    assert not re.search(r"\bas an ai\b|language model|system prompt", spoken, re.I), replies
    assert len(set(replies)) >= 4, "the client reacts to what each turn did"


# --- the validate command ----------------------------------------------------------------------


def test_validate_passes_over_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["personas", "validate", str(LIBRARY_DIR)]) == 0
    assert f"{len(LIBRARY)} persona(s) valid" in capsys.readouterr().out


def _broken_library(directory: Path) -> dict[str, Path]:
    source = yaml.safe_load((LIBRARY_DIR / f"{IDS[0]}.yaml").read_text(encoding="utf-8"))
    first: dict[str, Any] = {**source, "id": "first-broken", "difficulty": "expert"}
    first["speech"] = {**source["speech"], "registr": source["speech"]["register"]}
    del first["speech"]["register"]
    second: dict[str, Any] = {**source, "id": "second-broken", "focus": ["mandated"]}
    paths = {
        "first": directory / "first-broken.yaml",
        "second": directory / "second-broken.yaml",
        "syntax": directory / "third-broken.yaml",
    }
    paths["first"].write_text(yaml.safe_dump(first, allow_unicode=True), encoding="utf-8")
    paths["second"].write_text(yaml.safe_dump(second, allow_unicode=True), encoding="utf-8")
    paths["syntax"].write_text("id: third-broken\nsummary: Session two: back\n", encoding="utf-8")
    (directory / f"{IDS[0]}.yaml").write_text(
        (LIBRARY_DIR / f"{IDS[0]}.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return paths


def test_validate_reports_every_problem_in_one_run(tmp_path: Path) -> None:
    paths = _broken_library(tmp_path)
    done = subprocess.run(  # the project's own CLI, with a fixed argument list
        [sys.executable, "-m", "app.cli", "personas", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    expected = [
        (paths["first"], "difficulty", "use one of the allowed values"),
        (paths["first"], "speech.registr", "did you mean 'register'?"),
        (paths["first"], "speech.register", "add this field"),
        (paths["second"], "focus.0", "add it, or remove 'mandated' from focus"),
        (paths["syntax"], "line 2", "must be quoted"),
    ]
    for path, field, fix in expected:
        assert any(line.startswith(f"{path}: {field}: ") and fix in line for line in lines), (
            field,
            lines,
        )
    assert lines[-1] == f"{len(lines) - 1} problem(s) found."
    assert not any(IDS[0] in line for line in lines), "the valid file has no problems"


def test_validate_one_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["personas", "validate", str(LIBRARY_DIR / f"{IDS[0]}.yaml")]) == 0
    assert "1 persona(s) valid" in capsys.readouterr().out
    bad = tmp_path / "lone-broken.yaml"
    bad.write_text("id: lone-broken\nsummary: x\n", encoding="utf-8")
    assert cli_main(["personas", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: identity: Field required; add this field" in err
    assert f"{bad}: attachment: Field required; add this field" in err
