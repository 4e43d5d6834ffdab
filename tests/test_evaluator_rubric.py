"""The rubric lives in prompts/rubric.yaml: it matches the critique schema, renders into the
evaluator's instructions with an example at every level, and a broken file is refused at
start-up with the file, the field and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from app.cli import main
from app.evaluator.judge import Evaluator
from app.evaluator.prompt import evaluator_request
from app.evaluator.rubric import MARKERS, RubricError, load_rubric, parse_rubric
from app.evaluator.schema import DIMENSIONS, JudgeInput, critique_json_schema
from app.llm.scripted import ScriptedModel
from app.prompts import Prompts
from app.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"
RUBRIC = load_rubric(PROMPTS_DIR / "rubric.yaml")
TEXT = (PROMPTS_DIR / "rubric.yaml").read_text(encoding="utf-8")


def test_the_rubric_dimensions_are_the_schema_dimensions() -> None:
    assert tuple(d.name for d in RUBRIC.dimensions) == DIMENSIONS
    properties = critique_json_schema()["properties"]
    assert isinstance(properties, dict)
    for dimension in RUBRIC.dimensions:
        assert dimension.name in properties
    assert "direction_balance" in properties
    assert set(RUBRIC.client_markers) == set(MARKERS)


def test_not_applicable_rules_follow_the_clinical_brief() -> None:
    # Power awareness and boundaries may be not applicable; the other three always apply.
    rules = {d.name: d.not_applicable for d in RUBRIC.dimensions}
    assert rules["power_awareness"]
    assert rules["boundaries"]
    for always in ("recognition", "authenticity", "collaboration"):
        assert not rules[always]


def judge_input() -> JudgeInput:
    return JudgeInput(
        persona_summary="s",
        attachment_style="anxious",
        transcript=[("client", "Hi")],
        client_last="Hi",
        trainee_text="What brings you here?",
        minutes_elapsed=3,
        planned_minutes=50,
    )


def test_every_anchor_and_example_reaches_the_evaluator_prompt() -> None:
    request = evaluator_request(Prompts(PROMPTS_DIR), judge_input(), max_tokens=500, rubric=RUBRIC)
    system = request.messages[0].content
    for dimension in RUBRIC.dimensions:
        assert f"## {dimension.name}: {dimension.title}" in system
        assert dimension.example_client in system
        for level, anchor in dimension.anchors.items():
            assert f'- {level}: {anchor.description} Example: "{anchor.example}"' in system
        if dimension.not_applicable:
            assert f"Not applicable: {dimension.not_applicable}" in system
    for level, anchor in RUBRIC.direction_balance.anchors.items():
        shown = f"{level:+d}" if level else "0"
        assert f"- {shown}: {anchor.description}" in system
    for marker, description in RUBRIC.client_markers.items():
        assert f"- {marker}: {description}" in system


def test_a_tutor_edit_to_the_wording_reaches_the_prompt(tmp_path: Path) -> None:
    shutil.copytree(PROMPTS_DIR, tmp_path, dirs_exist_ok=True)
    edited = TEXT.replace("title: Mutual recognition", "title: Recognising the client as a person")
    (tmp_path / "rubric.yaml").write_text(edited, encoding="utf-8")
    prompts = Prompts(tmp_path)
    request = evaluator_request(prompts, judge_input(), max_tokens=500)
    assert "## recognition: Recognising the client as a person" in request.messages[0].content


def broken(mutate: str) -> str:
    data = yaml.safe_load(TEXT)
    if mutate == "renamed":
        data["dimensions"][2]["name"] = "partnership"
    elif mutate == "missing_level":
        del data["dimensions"][3]["anchors"][2]
    elif mutate == "balance_level":
        data["direction_balance"]["anchors"][3] = {"description": "x", "example": "y"}
    elif mutate == "marker":
        del data["client_markers"]["flatter"]
        data["client_markers"]["sulk"] = "Sulks."
    elif mutate == "empty_example":
        data["dimensions"][0]["anchors"][1]["example"] = ""
    elif mutate == "typo_field":
        data["dimensions"][1]["principel"] = data["dimensions"][1].pop("principle")
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(
    ("mutate", "field", "fix"),
    [
        ("renamed", "dimensions", "keep its name"),
        ("missing_level", "dimensions[3] (power_awareness).anchors", "expected levels 0, 1, 2, 3"),
        ("balance_level", "direction_balance.anchors", "expected levels -2, -1, 0, 1, 2"),
        ("marker", "client_markers", "describe flatter and remove sulk"),
        ("empty_example", "dimensions[0] (recognition).anchors.1.example", "write some text"),
        ("typo_field", "dimensions[1] (authenticity).principel", "check its spelling"),
    ],
)
def test_a_broken_rubric_names_file_field_and_fix(mutate: str, field: str, fix: str) -> None:
    with pytest.raises(RubricError) as caught:
        parse_rubric(broken(mutate), file="prompts/rubric.yaml")
    message = str(caught.value)
    assert f"prompts/rubric.yaml: {field}" in message
    assert fix in message


def test_yaml_syntax_and_a_missing_file_are_reported_too(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="fix the YAML syntax"):
        parse_rubric("dimensions: [\n", file="rubric.yaml")
    with pytest.raises(RubricError, match="cannot read it"):
        load_rubric(tmp_path / "rubric.yaml")


def test_the_evaluator_reads_the_rubric_at_start_up(tmp_path: Path) -> None:
    shutil.copytree(PROMPTS_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "rubric.yaml").write_text(broken("renamed"), encoding="utf-8")
    with pytest.raises(RubricError):
        Evaluator(model=ScriptedModel(role="evaluator"), prompts=Prompts(tmp_path), max_tokens=10)


def test_serve_refuses_to_start_with_a_broken_rubric(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(PROMPTS_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "rubric.yaml").write_text(broken("missing_level"), encoding="utf-8")
    monkeypatch.setenv("ALLIANCE_PROMPTS_DIR", str(tmp_path))
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "The evaluator's rubric has problems" in err
    assert "rubric.yaml: dimensions[3] (power_awareness).anchors" in err
