"""Personas written in the browser: validation, versions, and who may practise with which.

Each saved version is registered with the turn engine under its own key, `<id>@v<n>`, and a
session records that key, so it keeps the version it began with after later edits. A version is
offered to trainees only when it is published to one of their cohorts; tutors and admins see
what they may preview. The YAML format is the one in `personas/README.md`, validated by
`app.personas` with the same messages as the files in `personas/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from app.auth.principal import Principal
from app.errors import PersonaError, PersonaProblem
from app.personas import Persona, parse_persona
from app.storage import authoring as store
from app.storage.db import Database

MAX_YAML_CHARS = 60_000
MAX_ID_CHARS = 48


def version_key(persona_id: str, version: int) -> str:
    return f"{persona_id}@v{version}"


@dataclass
class Library:
    """What the engine can run, and which authored versions each cohort is offered."""

    personas: dict[str, Persona]
    # version key -> cohort ids it is published to
    offered: dict[str, frozenset[str]] = field(default_factory=dict)

    def visible(self, principal: Principal) -> list[Persona]:
        """Built-in personas for everyone; authored ones published to the person's cohorts."""
        return [
            p
            for key, p in self.personas.items()
            if "@" not in key or self.offered.get(key, frozenset()) & principal.cohort_ids
        ]

    def can_start(self, principal: Principal, key: str) -> bool:
        if "@" not in key:
            return key in self.personas
        return bool(self.offered.get(key, frozenset()) & principal.cohort_ids)


def validate(text: str, *, persona_id: str | None = None) -> Persona:
    """Parse YAML written in the browser; every problem names its field and the fix."""
    if len(text) > MAX_YAML_CHARS:
        raise PersonaError(
            [
                PersonaProblem(
                    file="persona",
                    field="(whole file)",
                    fix=f"keep the persona under {MAX_YAML_CHARS} characters",
                )
            ]
        )
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        raw = None
    found_id = raw.get("id") if isinstance(raw, dict) else None
    stem = persona_id or (found_id if isinstance(found_id, str) and found_id else "persona")
    try:
        persona = parse_persona(text, file=f"{stem}.yaml")
    except PersonaError as exc:
        raise PersonaError([_browser_problem(p, stem) for p in exc.problems]) from None
    if len(persona.id) > MAX_ID_CHARS:
        raise PersonaError(
            [
                PersonaProblem(
                    file="persona",
                    field="id",
                    fix=f"use at most {MAX_ID_CHARS} characters (the version is added to it)",
                )
            ]
        )
    return persona


def _browser_problem(problem: PersonaProblem, stem: str) -> PersonaProblem:
    fix = problem.fix
    if problem.field == "id" and "file name" in fix:
        fix = (
            f"keep the id {stem!r}: it names this persona. To make a new persona from this one, "
            "import it with a new id"
        )
    return PersonaProblem(file="persona", field=problem.field, fix=fix)


def register(library: Library, persona_id: str, version: int, text: str) -> str:
    """Make a stored version runnable; returns its key."""
    key = version_key(persona_id, version)
    persona = parse_persona(text, file=f"{persona_id}.yaml")
    library.personas[key] = persona.model_copy(update={"id": key, "version": version})
    return key


async def load(library: Library, database: Database) -> None:
    """At start-up: register every stored version and the current publications."""
    async with database.session() as db:
        rows = await store.all_versions(db)
        pubs = await store.publications(db)
    for row in rows:
        try:
            register(library, row.persona_id, row.version, row.yaml_text)
        except PersonaError:
            continue  # stored only after validation; a later schema change may reject it
    refresh_offers(library, [(p.persona_id, p.version, p.cohort_id) for p in pubs])


def refresh_offers(library: Library, pubs: list[tuple[str, int, str]]) -> None:
    offered: dict[str, set[str]] = {}
    for persona_id, version, cohort_id in pubs:
        offered.setdefault(version_key(persona_id, version), set()).add(cohort_id)
    library.offered = {k: frozenset(v) for k, v in offered.items()}


def library_of(request: Any) -> Library:
    """The running app's library (set up in the lifespan; built on first use otherwise)."""
    state = request.app.state
    library: Library | None = getattr(state, "library", None)
    if library is None or library.personas is not state.services.personas:
        library = Library(state.services.personas)
        state.library = library
    return library
