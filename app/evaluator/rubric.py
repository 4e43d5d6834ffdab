"""The evaluator's rubric as data: `prompts/rubric.yaml`, read and checked at start-up.

Tutors adjust the wording (principles, anchors, examples, not-applicable rules); the service
fixes the shape, because the critique schema depends on it: the dimension names and order of
`app.evaluator.schema.DIMENSIONS`, levels 0-3 for each dimension, -2..+2 for direction balance,
and one description per client marker. Every problem is reported together, each naming the
file, the field and the fix. Loading reads one file and never calls a model.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.errors import AllianceError
from app.evaluator.schema import DIMENSIONS, ClientMarker

RUBRIC_FILE = "rubric.yaml"
MARKERS: tuple[str, ...] = typing.get_args(ClientMarker)
SCORE_LEVELS = (0, 1, 2, 3)
BALANCE_LEVELS = (-2, -1, 0, 1, 2)


@dataclass(frozen=True, slots=True)
class RubricProblem:
    file: str
    field: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.fix}"


class RubricError(AllianceError):
    """The rubric file cannot be used; `problems` names each file, field and fix."""

    kind = "rubric"

    def __init__(self, problems: list[RubricProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Anchor(_Strict):
    description: str = Field(min_length=1, max_length=600)
    example: str = Field(min_length=1, max_length=600)

    @field_validator("example")
    @classmethod
    def _unquoted(cls, example: str) -> str:
        # Written with or without quotation marks; the template adds them.
        return example.strip().strip('"“”').strip()


def _levels(anchors: dict[int, Anchor], expected: tuple[int, ...]) -> dict[int, Anchor]:
    if tuple(sorted(anchors)) != expected:
        wanted = ", ".join(str(level) for level in expected)
        found = ", ".join(str(level) for level in sorted(anchors)) or "none"
        raise ValueError(
            f"expected levels {wanted}, found {found}; give every level a description and an "
            "example"
        )
    return dict(sorted(anchors.items()))


class Dimension(_Strict):
    name: str
    title: str = Field(min_length=1, max_length=80)
    principle: str = Field(min_length=1, max_length=600)
    anchored_on: str = Field(default="", max_length=300)
    example_client: str = Field(min_length=1, max_length=400)
    anchors: dict[int, Anchor]
    not_applicable: str = Field(default="", max_length=600)

    @field_validator("anchors")
    @classmethod
    def _score_levels(cls, anchors: dict[int, Anchor]) -> dict[int, Anchor]:
        return _levels(anchors, SCORE_LEVELS)


class Balance(_Strict):
    title: str = Field(min_length=1, max_length=80)
    principle: str = Field(min_length=1, max_length=600)
    anchored_on: str = Field(default="", max_length=300)
    example_client: str = Field(min_length=1, max_length=400)
    anchors: dict[int, Anchor]

    @field_validator("anchors")
    @classmethod
    def _balance_levels(cls, anchors: dict[int, Anchor]) -> dict[int, Anchor]:
        return _levels(anchors, BALANCE_LEVELS)


class Rubric(_Strict):
    dimensions: list[Dimension]
    direction_balance: Balance
    client_markers: dict[str, str]

    @field_validator("dimensions")
    @classmethod
    def _schema_dimensions(cls, dimensions: list[Dimension]) -> list[Dimension]:
        names = tuple(d.name for d in dimensions)
        if names != DIMENSIONS:
            raise ValueError(
                f"expected the dimensions {', '.join(DIMENSIONS)} in that order, found "
                f"{', '.join(names) or 'none'}; reword a dimension freely but keep its name, "
                "because the critique schema uses it"
            )
        return dimensions

    @field_validator("client_markers")
    @classmethod
    def _every_marker(cls, markers: dict[str, str]) -> dict[str, str]:
        missing = [m for m in MARKERS if not markers.get(m, "").strip()]
        unknown = [m for m in markers if m not in MARKERS]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"describe {', '.join(missing)}")
            if unknown:
                parts.append(f"remove {', '.join(unknown)} (not a marker the schema knows)")
            raise ValueError(f"{' and '.join(parts)}; the markers are {', '.join(MARKERS)}")
        return {m: markers[m].strip() for m in MARKERS}

    def dimension(self, name: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.name == name:
                return dimension
        raise KeyError(name)


def _field(loc: tuple[int | str, ...], data: Any) -> str:
    """A readable path such as `dimensions[2] (power_awareness).anchors`."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list):
            label = f"[{part}]"
            item = node[part] if part < len(node) else None
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                label += f" ({item['name']})"
            parts.append(label)
            node = item
        else:
            parts.append(("." if parts else "") + str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts) or "(whole file)"


_FIXES = {
    "missing": "add it",
    "extra_forbidden": "remove it, or check its spelling",
    "string_too_short": "write some text here",
    "int_parsing": "use a whole number as the level",
}


def parse_rubric(text: str, *, file: str) -> Rubric:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RubricError(
            [RubricProblem(file, "(whole file)", f"fix the YAML syntax: {exc}")]
        ) from None
    if not isinstance(data, dict):
        raise RubricError(
            [
                RubricProblem(
                    file,
                    "(whole file)",
                    "write a mapping with dimensions, direction_balance and client_markers",
                )
            ]
        )
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            message = item["msg"].removeprefix("Value error, ")
            fix = _FIXES.get(item["type"])
            problems.append(
                RubricProblem(
                    file, _field(item["loc"], data), f"{message}; {fix}" if fix else message
                )
            )
        raise RubricError(problems) from None


def load_rubric(path: Path) -> Rubric:
    """Read and check the rubric file; a missing or broken file raises `RubricError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError(
            [
                RubricProblem(
                    str(path),
                    "(whole file)",
                    f"cannot read it ({exc.strerror}); the evaluator's rubric belongs in the "
                    "prompts folder (ALLIANCE_PROMPTS_DIR)",
                )
            ]
        ) from None
    return parse_rubric(text, file=str(path))
