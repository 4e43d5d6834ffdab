"""The persona library: it validates, it matches its documentation, and bad files fail clearly.

Bad files are written into `tmp_path`; each error must name the file, the field as a dotted path
(`disclosure_layers.1.trust_required`) and a fix.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from app.errors import PersonaError
from app.personas import AttachmentStyle, Persona, load_personas, parse_persona

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "personas"
README = LIBRARY / "README.md"


# --- the library ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library() -> dict[str, Persona]:
    return load_personas(LIBRARY)


def test_every_persona_file_validates(library: dict[str, Persona]) -> None:
    files = {path.stem for path in LIBRARY.glob("*.yaml")}
    assert files, "the persona library is empty"
    assert set(library) == files
    assert not list(LIBRARY.glob("*.yml")), "persona files must end in .yaml"


def test_every_attachment_style_has_a_persona(library: dict[str, Persona]) -> None:
    styles = Counter(persona.style for persona in library.values())
    missing = set(get_args(AttachmentStyle)) - set(styles)
    assert not missing, f"no persona for: {sorted(missing)}"


@pytest.mark.parametrize("persona_id", sorted(path.stem for path in LIBRARY.glob("*.yaml")))
def test_layers_open_as_trust_grows(library: dict[str, Persona], persona_id: str) -> None:
    persona = library[persona_id]
    at_start = persona.layers_visible_at(persona.initial_trust)
    assert at_start, (
        "the surface layer must be open at initial_trust, or the client has no material"
    )
    assert at_start[0].depth == "surface"
    assert all(layer.depth != "core" for layer in at_start), "the core must need more trust"
    assert persona.layers_visible_at(100) == persona.disclosure_layers


@pytest.mark.parametrize(
    ("style", "moves"),
    [
        ("anxious", {"defer", "flatter", "run_over"}),
        ("avoidant", {"challenge", "resist"}),
        ("disorganised", {"confidentiality_probe", "test"}),
        ("secure", {"challenge"}),
    ],
)
def test_power_moves_fit_the_style(
    library: dict[str, Persona], style: str, moves: set[str]
) -> None:
    for persona in library.values():
        if persona.style == style:
            kinds = {move.kind for move in persona.power_moves}
            assert moves <= kinds, f"{persona.id} lacks {sorted(moves - kinds)}"


def test_boundary_events_fit_the_style(library: dict[str, Persona]) -> None:
    for persona in library.values():
        events = {event.kind: event for event in persona.boundary_events}
        if persona.style == "anxious":
            assert "run_over" in events, persona.id
        if persona.style == "disorganised":
            probe = events.get("confidentiality_probe")
            assert probe is not None, persona.id
            assert probe.after_turn is not None, persona.id


# --- the documentation stays in step with the model -------------------------------------------


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _nested_models(arg)


def _models(root: type[BaseModel] = Persona) -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {root.__name__: root}
    for field in root.model_fields.values():
        for model in _nested_models(field.annotation):
            if model.__name__ not in found:
                found.update(_models(model))
    return found


MODELS = _models()


def _literal_values(annotation: Any) -> list[str]:
    if get_origin(annotation) is Literal:
        return [str(value) for value in get_args(annotation)]
    # Through unions (`X | None`) and containers (`list[X]`) to the literals inside.
    return [value for arg in get_args(annotation) for value in _literal_values(arg)]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _documented_tables() -> dict[str, list[dict[str, str]]]:
    """For each `### `Model`` section of the README, the rows of its one field table."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"#{1,6}\s+(.*)", line)
        if heading:
            title = re.fullmatch(r"`(\w+)`", heading.group(1).strip())
            current = sections.setdefault(title.group(1), []) if title else None
        elif current is not None:
            current.append(line)
    tables: dict[str, list[dict[str, str]]] = {}
    for name, lines in sections.items():
        blocks: list[list[str]] = []
        previous_was_row = False
        for line in lines:
            is_row = line.lstrip().startswith("|")
            if is_row and not previous_was_row:
                blocks.append([])
            if is_row:
                blocks[-1].append(line)
            previous_was_row = is_row
        assert len(blocks) == 1, f"the {name} section needs exactly one table, found {len(blocks)}"
        header, separator, *rows = blocks[0]
        keys = [key.lower() for key in _cells(header)]
        assert all(cell and set(cell) <= set("-:") for cell in _cells(separator)), name
        tables[name] = [dict(zip(keys, _cells(row), strict=True)) for row in rows]
    return tables


def _field_name(row: dict[str, str]) -> str:
    match = re.fullmatch(r"`(\w+)`", row["field"])
    assert match, f"the first column must be the field name in backticks: {row['field']!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def documented() -> dict[str, list[dict[str, str]]]:
    return _documented_tables()


def test_every_model_has_a_table(documented: dict[str, list[dict[str, str]]]) -> None:
    assert set(MODELS) <= set(documented), f"undocumented: {sorted(set(MODELS) - set(documented))}"
    assert set(documented) <= set(MODELS), f"not models: {sorted(set(documented) - set(MODELS))}"


def test_the_library_table_lists_every_persona(library: dict[str, Persona]) -> None:
    text = README.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9-]+)\.yaml` \|", text, flags=re.M))
    assert listed == set(library), f"README library table: {sorted(listed ^ set(library))}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_documented_fields_match_the_model(
    documented: dict[str, list[dict[str, str]]], name: str
) -> None:
    in_docs = [_field_name(row) for row in documented[name]]
    in_model = list(MODELS[name].model_fields)
    assert len(in_docs) == len(set(in_docs)), f"{name}: a field is documented twice"
    assert not set(in_model) - set(in_docs), (
        f"{name}: not in README: {set(in_model) - set(in_docs)}"
    )
    assert not set(in_docs) - set(in_model), f"{name}: not in model: {set(in_docs) - set(in_model)}"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_documented_required_and_allowed_values_match(
    documented: dict[str, list[dict[str, str]]], name: str
) -> None:
    fields = MODELS[name].model_fields
    for row in documented[name]:
        field = fields[_field_name(row)]
        expected = "yes" if field.is_required() else "no"
        assert row["required"] == expected, f"{name}.{_field_name(row)}: required is {expected}"
        for value in _literal_values(field.annotation):
            assert f"`{value}`" in row["allowed values and default"], (
                f"{name}.{_field_name(row)}: allowed value {value!r} is not documented"
            )


# --- bad input gets a clear error --------------------------------------------------------------


def _valid() -> dict[str, Any]:
    layer = {"content": "Something the client knows.", "opening_lines": ["Well."]}
    return {
        "id": "alex-secure",
        "summary": "Alex, 30, a test client.",
        "identity": {
            "name": "Alex Example",
            "age": 30,
            "pronouns": "they/them",
            "occupation": "Librarian",
            "background": "Grew up by the sea.",
            "referral": "self",
        },
        "presenting_problem": "Sleeping badly since a move.",
        "history": "A steady childhood with parents who listened.",
        "attachment": {"style": "secure", "markers": ["Disagrees openly.", "Repairs."]},
        "transference": "A fair manager.",
        "opening_lines": ["Hello again."],
        "power_moves": [
            {"kind": "challenge", "trigger": "the counsellor lectures", "examples": ["Hm."]}
        ],
        "disclosure_layers": [
            {"id": "the-move", "depth": "surface", "trust_required": 0, **layer},
            {"id": "the-loss", "depth": "deeper", "trust_required": 55, **layer},
            {"id": "the-secret", "depth": "core", "trust_required": 75, **layer},
        ],
        "boundary_events": [{"kind": "doorknob", "minutes_left_at_most": 5, "lines": ["Oh."]}],
        "speech": {
            "length": "medium",
            "register": "plain",
            "affect": "calm",
            "when_withdrawn": "brief and polite",
        },
        "difficulty": "introductory",
        "initial_trust": 40,
        "learning_objectives": ["Meet a challenge without defending."],
    }


MANDATE = {
    "required_by": "A community order with a rehabilitation activity requirement.",
    "reported": "Attendance, to the probation officer; not what is said, unless there is risk.",
    "consequences": "Missed sessions can lead to a breach and a return to court.",
}


def test_a_mandated_persona_is_valid(tmp_path: Path) -> None:
    data = _valid()
    data["identity"].update(referral="probation", mandate=MANDATE)
    data["focus"] = ["mandated", "challenge"]
    _write(tmp_path, data)
    persona = load_personas(tmp_path)["alex-secure"]
    assert persona.identity.mandate is not None
    assert persona.focus == ["mandated", "challenge"]


def _write(directory: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = directory / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _problems(error: PersonaError) -> dict[str, str]:
    return {problem.field: problem.fix for problem in error.problems}


def test_the_valid_example_is_valid(tmp_path: Path) -> None:
    _write(tmp_path, _valid())
    assert list(load_personas(tmp_path)) == ["alex-secure"]


def _rename(data: dict[str, Any], old: str, new: str) -> None:
    data[new] = data.pop(old)


def _swap_layers(data: dict[str, Any]) -> None:
    layers = data["disclosure_layers"]
    layers[1], layers[2] = layers[2], layers[1]
    layers[1]["trust_required"], layers[2]["trust_required"] = 55, 75


Mutation = Callable[[dict[str, Any]], None]

BAD_FIELDS: list[tuple[str, Mutation, str, str]] = [
    (
        "misspelt top-level field",
        lambda d: _rename(d, "summary", "sumary"),
        "sumary",
        "did you mean 'summary'?",
    ),
    (
        "misspelt nested field",
        lambda d: _rename(d["disclosure_layers"][1], "trust_required", "trust_requried"),
        "disclosure_layers.1.trust_requried",
        "did you mean 'trust_required'?",
    ),
    (
        "missing required field",
        lambda d: d.pop("presenting_problem"),
        "presenting_problem",
        "add this field",
    ),
    (
        "missing speech register",
        lambda d: d["speech"].pop("register"),
        "speech.register",
        "add this field",
    ),
    (
        "wrong attachment style",
        lambda d: d["attachment"].update(style="anxious-preoccupied"),
        "attachment.style",
        "'secure', 'anxious', 'avoidant' or 'disorganised'",
    ),
    (
        "wrong power move kind",
        lambda d: d["power_moves"][0].update(kind="sulk"),
        "power_moves.0.kind",
        "use one of the allowed values",
    ),
    (
        "layer trust falls",
        lambda d: d["disclosure_layers"][2].update(trust_required=40),
        "disclosure_layers.2.trust_required",
        "raise it, or reorder the layers",
    ),
    (
        "layers listed out of depth order",
        _swap_layers,
        "disclosure_layers.2.depth",
        "list the layers from surface to deeper to core",
    ),
    (
        "first layer is not surface",
        lambda d: d["disclosure_layers"].pop(0),
        "disclosure_layers.0.depth",
        "start with a 'surface' layer",
    ),
    (
        "duplicate layer id",
        lambda d: d["disclosure_layers"][2].update(id="the-move"),
        "disclosure_layers.2.id",
        "give every disclosure layer its own id",
    ),
    (
        "boundary event without a condition",
        lambda d: d["boundary_events"][0].pop("minutes_left_at_most"),
        "boundary_events.0",
        "give minutes_left_at_most or after_turn",
    ),
    (
        "text where a list belongs",
        lambda d: d["attachment"].update(markers="Disagrees openly."),
        "attachment.markers",
        "write a YAML list",
    ),
    (
        "trust out of range",
        lambda d: d.update(initial_trust=140),
        "initial_trust",
        "use a smaller number",
    ),
    (
        "focus without a matching power move",
        lambda d: d.update(focus=["challenge", "flatter"]),
        "focus.1",
        "add a power move with kind: flatter",
    ),
    (
        "focus listed twice",
        lambda d: d.update(focus=["challenge", "challenge"]),
        "focus.1",
        "list each focus once",
    ),
    (
        "unknown focus",
        lambda d: d.update(focus=["sulk"]),
        "focus.0",
        "use one of the allowed values",
    ),
    (
        "mandated focus without a mandate",
        lambda d: d.update(focus=["mandated"]),
        "focus.0",
        "add it, or remove 'mandated' from focus",
    ),
    (
        "mandate on a self-referral",
        lambda d: d["identity"].update(mandate=dict(MANDATE)),
        "identity.mandate",
        "set referral to who requires it",
    ),
    (
        "misspelt mandate field",
        lambda d: d["identity"].update(
            referral="probation", mandate={**MANDATE, "reportd": MANDATE["reported"]}
        ),
        "identity.mandate.reportd",
        "did you mean 'reported'?",
    ),
    (
        "surface layer closed at the start",
        lambda d: d["disclosure_layers"][0].update(trust_required=50),
        "initial_trust",
        "raise initial_trust to at least 50",
    ),
    (
        "id is not a slug",
        lambda d: d["disclosure_layers"][0].update(id="The Move"),
        "disclosure_layers.0.id",
        "lower-case letters, digits and hyphens",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "field", "fix"),
    [case[1:] for case in BAD_FIELDS],
    ids=[case[0] for case in BAD_FIELDS],
)
def test_bad_field_names_file_field_and_fix(
    tmp_path: Path, mutate: Mutation, field: str, fix: str
) -> None:
    data = copy.deepcopy(_valid())
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    problems = _problems(caught.value)
    assert field in problems, f"expected a problem at {field!r}, got {caught.value}"
    assert fix in problems[field]
    for problem in caught.value.problems:
        assert problem.file == str(path)
        assert problem.field
        assert problem.fix
        assert str(problem) == f"{path}: {problem.field}: {problem.fix}"
    assert str(path) in str(caught.value)


def test_a_misspelt_field_also_reports_the_missing_one(tmp_path: Path) -> None:
    data = _valid()
    _rename(data["disclosure_layers"][1], "trust_required", "trust_requried")
    _write(tmp_path, data)
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    problems = _problems(caught.value)
    assert "disclosure_layers.1.trust_required" in problems
    assert "add this field" in problems["disclosure_layers.1.trust_required"]


BROKEN_YAML = [
    ("unquoted colon", "id: broken\nsummary: Session two: the return\n", "line 2", "quoted"),
    ("tab indentation", "id: broken\nspeech:\n\tlength: short\n", "line 3", "not tabs"),
    ("unclosed bracket", "id: broken\nopening_lines: [Hello\n", "line 3", "sequence"),
    ("duplicate key", "id: broken\nsummary: one\nsummary: two\n", "line 3", "twice"),
]


def test_a_spoken_line_with_a_colon_says_to_quote_it(tmp_path: Path) -> None:
    data = _valid()
    data["opening_lines"] = [{"Laughs": "I'm fine."}]  # what `- Laughs: "I'm fine."` reads as
    path = _write(tmp_path, data)
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.field) == (str(path), "opening_lines.0")
    assert "put the line in quotes" in problem.fix


@pytest.mark.parametrize(
    ("text", "field", "fix"),
    [case[1:] for case in BROKEN_YAML],
    ids=[case[0] for case in BROKEN_YAML],
)
def test_broken_yaml_names_the_line_and_the_fix(
    tmp_path: Path, text: str, field: str, fix: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert problem.field == field
    assert problem.fix.startswith("fix the YAML syntax")
    assert fix in problem.fix
    assert "\n" not in problem.fix


def test_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "a-list.yaml").write_text("- one\n- two\n", encoding="utf-8")
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    [problem] = caught.value.problems
    assert (problem.field, problem.fix) == ("(whole file)", "write a YAML mapping of fields")


def test_file_name_must_match_the_id(tmp_path: Path) -> None:
    path = _write(tmp_path, _valid(), name="alex")
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.field) == (str(path), "id")
    assert "rename the file to alex-secure.yaml or set id: alex" in problem.fix


def test_id_mismatch_is_reported_with_other_problems(tmp_path: Path) -> None:
    data = _valid()
    data["difficulty"] = "expert"
    _write(tmp_path, data, name="alex")
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    assert set(_problems(caught.value)) == {"id", "difficulty"}


def test_parse_persona_names_the_file_it_was_given() -> None:
    data = _valid()
    data["speech"]["length"] = "rambling"
    with pytest.raises(PersonaError) as caught:
        parse_persona(yaml.safe_dump(data), file="personas/alex-secure.yaml")
    [problem] = caught.value.problems
    assert problem.file == "personas/alex-secure.yaml"
    assert problem.field == "speech.length"
    assert "'short', 'medium' or 'long'" in problem.fix


def test_cross_field_problems_come_with_the_other_problems(tmp_path: Path) -> None:
    """Checks that span fields run in the same pass, so one edit-and-run shows everything."""
    data = _valid()
    data["speech"]["lenght"] = "short"
    data["disclosure_layers"][0]["trust_required"] = 50
    data["focus"] = ["flatter"]
    data["identity"]["mandate"] = MANDATE
    _write(tmp_path, data)
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    assert set(_problems(caught.value)) == {
        "speech.lenght",
        "initial_trust",
        "focus.0",
        "identity.mandate",
    }


def test_problems_from_every_bad_file_come_in_one_error(tmp_path: Path) -> None:
    good = _write(tmp_path, _valid())
    first = _valid()
    first["id"] = "first-bad"
    first["attachment"]["style"] = "clingy"
    first_path = _write(tmp_path, first)
    second = _valid()
    second["id"] = "second-bad"
    second["disclosure_layers"][1]["trust_required"] = 90
    second_path = _write(tmp_path, second)
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    where = {(problem.file, problem.field) for problem in caught.value.problems}
    assert (str(first_path), "attachment.style") in where
    assert (str(second_path), "disclosure_layers.2.trust_required") in where
    assert str(good) not in {problem.file for problem in caught.value.problems}


def test_a_yml_file_is_reported_not_ignored(tmp_path: Path) -> None:
    _write(tmp_path, _valid())
    (tmp_path / "sam-anxious.yml").write_text("id: sam-anxious\n", encoding="utf-8")
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    [problem] = caught.value.problems
    assert problem.file == str(tmp_path / "sam-anxious.yml")
    assert "rename it to sam-anxious.yaml" in problem.fix


def test_an_empty_or_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PersonaError, match="add at least one persona"):
        load_personas(tmp_path)
    with pytest.raises(PersonaError, match="no such directory"):
        load_personas(tmp_path / "nowhere")


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("id: lat\nsummary: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(PersonaError) as caught:
        load_personas(tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.field) == (str(path), "(whole file)")
    assert "UTF-8" in problem.fix
