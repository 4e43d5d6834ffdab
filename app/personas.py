"""Personas: the model of a simulated client, loaded from YAML and validated at the boundary.

A persona is data a tutor writes. Loading never half-succeeds: every problem in every file is
collected into one `PersonaError`, each naming the file, the field and the fix. The schema is
documented field by field in `personas/README.md`.
"""

from __future__ import annotations

import difflib
import itertools
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from app.errors import PersonaError, PersonaProblem

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]

AttachmentStyle = Literal["secure", "anxious", "avoidant", "disorganised"]
Difficulty = Literal["introductory", "intermediate", "advanced"]
PowerMoveKind = Literal[
    "defer", "flatter", "challenge", "test", "resist", "confidentiality_probe", "run_over"
]
LayerDepth = Literal["surface", "deeper", "core"]
BoundaryKind = Literal["doorknob", "run_over", "confidentiality_probe"]
Referral = Literal[
    "self", "gp", "university", "school", "employer", "court", "probation", "family", "other"
]
# Who can require attendance and receive a report: a mandate needs one of these referrers.
_MANDATING: frozenset[str] = frozenset(
    {"university", "school", "employer", "court", "probation", "other"}
)
# What a persona is built to practise: a power move it specialises in, or a mandated referral.
Focus = Literal[PowerMoveKind, "mandated"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mandate(_Strict):
    """Attendance required by someone with power over the client, who receives a report."""

    required_by: Text = Field(description="Who requires attendance, and under what order.")
    reported: Text = Field(description="What the counsellor must report, to whom and when.")
    consequences: Text = Field(description="What the client stands to lose, as they see it.")


class Identity(_Strict):
    name: Text
    age: int = Field(ge=16, le=100)
    pronouns: Text
    occupation: Text
    background: Text = Field(description="Cultural and life context, in the persona's own terms.")
    referral: Referral
    referral_note: str = ""
    session_number: int = Field(default=1, ge=1, le=50)
    mandate: Mandate | None = None

    # Cross-field checks are field validators on the later field, not model validators, so
    # they run (and are reported) in the same pass as every other problem in the file.
    @field_validator("mandate")
    @classmethod
    def _mandate_has_a_referrer(
        cls, mandate: Mandate | None, info: ValidationInfo
    ) -> Mandate | None:
        referral = info.data.get("referral")
        if mandate is not None and referral is not None and referral not in _MANDATING:
            raise PydanticCustomError(
                "mandate_referral",
                "a '{referral}' referral cannot require attendance; set referral to who "
                "requires it ({allowed}), or remove the mandate",
                {"referral": referral, "allowed": ", ".join(sorted(_MANDATING))},
            )
        return mandate


class Attachment(_Strict):
    style: AttachmentStyle
    markers: list[Text] = Field(min_length=2, description="Concrete in-session behaviours.")


class PowerMove(_Strict):
    kind: PowerMoveKind
    trigger: Text = Field(description="What the counsellor does that sets this move off.")
    examples: list[Text] = Field(min_length=1, description="Lines the client might say.")


class DisclosureLayer(_Strict):
    id: Slug
    depth: LayerDepth
    trust_required: int = Field(ge=0, le=100)
    content: Text = Field(description="What the client knows and will say once trusting enough.")
    hints: list[Text] = Field(
        default_factory=list, description="Oblique signs the client gives before disclosing."
    )
    opening_lines: list[Text] = Field(
        min_length=1, description="How the client first starts to say it, in their own voice."
    )


class BoundaryEvent(_Strict):
    kind: BoundaryKind
    minutes_left_at_most: int | None = Field(default=None, ge=0, le=60)
    after_turn: int | None = Field(default=None, ge=1, le=100)
    lines: list[Text] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_condition(self) -> BoundaryEvent:
        if self.minutes_left_at_most is None and self.after_turn is None:
            raise ValueError("give minutes_left_at_most or after_turn, or both")
        return self


# `register` shares its name with `ABCMeta.register` on the model's metaclass. A bare annotation
# would make pydantic take that method as the field's default (so the field was silently
# optional) and warn about the shadowing, which fails the import wherever warnings are errors.
# An explicit `Field` keeps the field required; the warning is harmless and silenced here only.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)

    class SpeechStyle(_Strict):
        length: Literal["short", "medium", "long"]
        register: Text = Field(description="Vocabulary, formality and dialect.")
        affect: Text
        idioms: list[Text] = Field(default_factory=list)
        when_withdrawn: Text = Field(description="How the voice changes in a withdrawal rupture.")


_DEPTH_ORDER: dict[str, int] = {"surface": 0, "deeper": 1, "core": 2}


def _layer_order_problem(layers: list[DisclosureLayer]) -> tuple[str, str] | None:
    """The first ordering problem in `layers` as (path inside the list, message with a fix)."""
    if layers and layers[0].depth != "surface":
        return "0.depth", (
            f"the first disclosure layer is {layers[0].depth!r}; "
            "start with a 'surface' layer, the material the client brings at the start"
        )
    seen: dict[str, int] = {}
    for index, layer in enumerate(layers):
        if layer.id in seen:
            return f"{index}.id", (
                f"{layer.id!r} is already the id of layer {seen[layer.id]}; "
                "give every disclosure layer its own id"
            )
        seen[layer.id] = index
    for index, (earlier, later) in enumerate(itertools.pairwise(layers), start=1):
        if _DEPTH_ORDER[later.depth] < _DEPTH_ORDER[earlier.depth]:
            return f"{index}.depth", (
                f"a {later.depth!r} layer comes after a {earlier.depth!r} layer; "
                "list the layers from surface to deeper to core"
            )
        if later.trust_required < earlier.trust_required:
            return f"{index}.trust_required", (
                f"needs at least the trust of the layer before it ({earlier.trust_required}), "
                f"not {later.trust_required}; raise it, or reorder the layers"
            )
    return None


def _focus_problem(focus: list[Focus], data: dict[str, Any]) -> tuple[str, str] | None:
    """The first focus the rest of the persona does not back up, as (index, message with fix).

    A focus is a claim tutors sequence personas by, so it must be true of the persona: a power
    move focus needs a power move of that kind, and `mandated` needs `identity.mandate`. Fields
    that failed their own validation are absent from `data` and are not checked here.
    """
    seen: set[str] = set()
    for index, kind in enumerate(focus):
        if kind in seen:
            return str(index), f"{kind!r} is listed twice; list each focus once"
        seen.add(kind)
        if kind == "mandated":
            identity = data.get("identity")
            if isinstance(identity, Identity) and identity.mandate is None:
                return str(index), (
                    "a mandated focus needs identity.mandate (who requires attendance, what "
                    "is reported, what is at stake); add it, or remove 'mandated' from focus"
                )
            continue
        moves = data.get("power_moves")
        if isinstance(moves, list) and kind not in {move.kind for move in moves}:
            return str(index), (
                f"the focus {kind!r} has no power move of that kind; add a power move with "
                f"kind: {kind}, a trigger and example lines, or remove it from focus"
            )
    return None


class Persona(_Strict):
    id: Slug
    version: int = Field(default=1, ge=1)
    summary: Text = Field(description="One line of context for the persona card.")
    identity: Identity
    presenting_problem: Text
    history: Text
    attachment: Attachment
    transference: Text
    opening_lines: list[Text] = Field(min_length=1)
    power_moves: list[PowerMove] = Field(min_length=1)
    disclosure_layers: list[DisclosureLayer] = Field(min_length=2)
    boundary_events: list[BoundaryEvent] = Field(default_factory=list)
    speech: SpeechStyle
    difficulty: Difficulty
    initial_trust: int = Field(default=35, ge=0, le=100)
    content_warnings: list[Text] = Field(default_factory=list)
    learning_objectives: list[Text] = Field(min_length=1)
    focus: list[Focus] = Field(
        default_factory=list, description="What the persona is built to practise."
    )
    tutor_notes: str = ""

    @field_validator("disclosure_layers")
    @classmethod
    def _layers_are_ordered(cls, layers: list[DisclosureLayer]) -> list[DisclosureLayer]:
        problem = _layer_order_problem(layers)
        if problem is not None:
            at, message = problem
            raise PydanticCustomError("disclosure_layer_order", message, {"at": at})
        return layers

    @field_validator("focus")
    @classmethod
    def _focus_is_backed(cls, focus: list[Focus], info: ValidationInfo) -> list[Focus]:
        problem = _focus_problem(focus, info.data)
        if problem is not None:
            at, message = problem
            raise PydanticCustomError("focus_unbacked", message, {"at": at})
        return focus

    @field_validator("initial_trust")
    @classmethod
    def _surface_is_open_at_the_start(cls, trust: int, info: ValidationInfo) -> int:
        layers = info.data.get("disclosure_layers")
        needed = layers[0].trust_required if layers else 0
        if needed > trust:
            raise PydanticCustomError(
                "surface_closed",
                "the surface layer needs trust {needed} but the client starts at {start}, so "
                "they would begin with nothing to say; raise initial_trust to at least {needed} "
                "or lower disclosure_layers.0.trust_required",
                {"needed": needed, "start": trust},
            )
        return trust

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def style(self) -> AttachmentStyle:
        return self.attachment.style

    def layers_visible_at(
        self, trust: int, *, unlocked: Iterable[str] = ()
    ) -> list[DisclosureLayer]:
        """Layers the client may speak from: already unlocked, or within reach of `trust`."""
        done = set(unlocked)
        return [
            layer
            for layer in self.disclosure_layers
            if layer.id in done or layer.trust_required <= trust
        ]


_FIXES: dict[str, str] = {
    "missing": "add this field",
    "extra_forbidden": "remove it, or check its spelling against personas/README.md",
    "literal_error": "use one of the allowed values",
    "string_too_short": "write some text here",
    "string_type": "write text here, in quotes if YAML would read it as a number, yes/no or empty",
    "too_short": "add at least the minimum number of items",
    "list_type": "write a YAML list: one item per line, each starting with '- '",
    "model_type": "write a mapping of fields, indented under this key",
    "dict_type": "write a mapping of fields, indented under this key",
    "int_type": "use a whole number",
    "int_parsing": "use a whole number",
    "int_from_float": "use a whole number",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
    "string_pattern_mismatch": "use lower-case letters, digits and hyphens, like 'maya-anxious'",
}

# Errors raised by this module's validators carry `at`: where inside `loc` the problem sits.
_LOCATED = frozenset({"disclosure_layer_order", "focus_unbacked"})


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (`X`, `list[X]`, `X | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model whose field `loc[-1]` is, following `loc` down from `Persona`."""
    model: type[BaseModel] = Persona
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        nested = _model_in(field.annotation) if field is not None else None
        if nested is None:
            break
        model = nested
    return model


def _spelling_hint(loc: tuple[int | str, ...]) -> str:
    """For an unknown field, the closest known field of the same model, as a hint."""
    name = loc[-1]
    if not isinstance(name, str):
        return ""
    fields = list(_model_at(loc).model_fields)
    close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _problem_from(item: ErrorDetails, file: str) -> PersonaProblem:
    loc = tuple(item["loc"])
    at = (item.get("ctx") or {}).get("at") if item["type"] in _LOCATED else None
    parts = [str(part) for part in loc] + ([str(at)] if at else [])
    field = ".".join(parts) or "(whole file)"
    message = item["msg"].removeprefix("Value error, ")
    fix = _FIXES.get(item["type"], "")
    if item["type"] == "extra_forbidden":
        fix = _spelling_hint(loc) + fix
    elif item["type"] == "string_type" and isinstance(item.get("input"), dict):
        fix = "YAML read this line as a key because it contains ': '; put the line in quotes"
    return PersonaProblem(file=file, field=field, fix=f"{message}; {fix}" if fix else message)


def _problems_from(error: ValidationError, file: str) -> list[PersonaProblem]:
    return [_problem_from(item, file) for item in error.errors()]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys, which plain YAML silently overwrites."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: let the normal constructor report it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found the key {key!r} twice (YAML would silently keep only the last one)",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _yaml_problem(exc: yaml.YAMLError, file: str) -> PersonaProblem:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if mark is None:
        return PersonaProblem(
            file=file, field="(whole file)", fix=f"fix the YAML syntax: {problem}"
        )
    where = f"line {mark.line + 1}"
    detail = f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    if context and context_mark is not None:
        detail += f", {context} from line {context_mark.line + 1}"
    if "twice" in problem:
        advice = "keep one of them and merge the text"
    elif "mapping values are not allowed" in problem:
        advice = "text containing ': ' must be quoted, or written as a block after '>'"
    elif "'\\t'" in problem:
        advice = "indent with spaces, not tabs"
    else:
        advice = "check the indentation, colons, quotes and brackets around this line"
    return PersonaProblem(file=file, field=where, fix=f"fix the YAML syntax: {detail}; {advice}")


def _read_yaml(text: str) -> Any:
    loader = _UniqueKeyLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_persona(text: str, *, file: str) -> Persona:
    """Parse one persona document; raise `PersonaError` naming every problem.

    The file's stem must equal the persona `id`, so ids are unique within a directory.
    """
    try:
        raw: Any = _read_yaml(text)
    except yaml.YAMLError as exc:
        raise PersonaError([_yaml_problem(exc, file)]) from None
    if not isinstance(raw, dict):
        raise PersonaError(
            [PersonaProblem(file=file, field="(whole file)", fix="write a YAML mapping of fields")]
        )
    problems: list[PersonaProblem] = []
    stem = Path(file).stem
    raw_id = raw.get("id")
    if isinstance(raw_id, str) and raw_id != stem:
        problems.append(
            PersonaProblem(
                file=file,
                field="id",
                fix=f"the id {raw_id!r} does not match the file name; "
                f"rename the file to {raw_id}.yaml or set id: {stem}",
            )
        )
    try:
        persona = Persona.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_problems_from(exc, file))
    if problems:
        raise PersonaError(problems)
    return persona


def load_personas(directory: Path) -> dict[str, Persona]:
    """Load every `*.yaml` in `directory`; all problems from all files are reported together."""
    if not directory.is_dir():
        raise PersonaError(
            [
                PersonaProblem(
                    file=str(directory),
                    field="(directory)",
                    fix="no such directory; check the personas_dir setting",
                )
            ]
        )
    personas: dict[str, Persona] = {}
    problems: list[PersonaProblem] = [
        PersonaProblem(
            file=str(path),
            field="(file name)",
            fix=f"persona files must end in .yaml; rename it to {path.stem}.yaml",
        )
        for path in sorted(directory.glob("*.yml"))
    ]
    files = sorted(directory.glob("*.yaml"))
    if not files and not problems:
        raise PersonaError(
            [
                PersonaProblem(
                    file=str(directory),
                    field="(directory)",
                    fix="add at least one persona .yaml file",
                )
            ]
        )
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(
                PersonaProblem(
                    file=str(path),
                    field="(whole file)",
                    fix=f"cannot read the file ({exc.__class__.__name__}); save it as UTF-8 text",
                )
            )
            continue
        try:
            persona = parse_persona(text, file=str(path))
        except PersonaError as exc:
            problems.extend(exc.problems)
            continue
        personas[persona.id] = persona
    if problems:
        raise PersonaError(problems)
    return personas
