"""Persona authoring for tutors: write YAML in the browser with every problem named, save
numbered versions, compare and roll back, preview by chatting with a version, publish a version
to chosen cohorts, import and export YAML. The built-in library (`personas/`) is read-only here.
"""

from __future__ import annotations

import difflib
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.responses import Response as FastResponse
from pydantic import BaseModel, Field

from app.api.pages import _context as page_context
from app.api.pages import templates
from app.auth.principal import Principal
from app.authoring import library_of, refresh_offers, register, validate, version_key
from app.deps import CurrentUser, CurrentWriter, OptionalPrincipal, ServicesDep
from app.errors import Forbidden, InvalidInput, NotFound, PersonaError
from app.services import Services
from app.storage import authoring as store
from app.storage import repo
from app.storage.tables import AuthoredPersona

router = APIRouter(prefix="/api/authoring", tags=["authoring"])
pages_router = APIRouter(include_in_schema=False)


class YamlIn(BaseModel):
    yaml: str = Field(min_length=1, max_length=60_000)
    note: str = Field(default="", max_length=200)


class VersionOut(BaseModel):
    version: int
    note: str
    created_at: datetime


class PersonaSummary(BaseModel):
    id: str
    name: str
    latest: int
    published: dict[str, int]  # cohort id -> version


class PersonaDetail(BaseModel):
    id: str
    latest: int
    yaml: str
    versions: list[VersionOut]
    published: dict[str, int]


class Checked(BaseModel):
    ok: bool
    id: str
    name: str


class RollbackIn(BaseModel):
    version: int = Field(ge=1)


class PublishIn(BaseModel):
    version: int = Field(ge=1)
    cohort_ids: list[str] = Field(max_length=200)


class Preview(BaseModel):
    session_id: str


def _author(principal: Principal) -> Principal:
    if not principal.reviews:
        raise Forbidden("Only tutors and administrators can write personas.")
    return principal


def _problems(exc: PersonaError) -> JSONResponse:
    return JSONResponse(
        {
            "detail": "The persona has problems; each names its field and the fix.",
            "kind": "persona_invalid",
            "problems": [{"field": p.field, "fix": p.fix} for p in exc.problems],
        },
        status_code=422,
    )


async def _owned(services: Services, principal: Principal, persona_id: str) -> AuthoredPersona:
    """The authored persona, if this tutor wrote it (admins: any); others get 404."""
    _author(principal)
    async with services.database.session() as db:
        found = await store.get_persona(db, persona_id=persona_id)
    if found is None or (principal.role != "admin" and found.owner_id != principal.user_id):
        raise NotFound("That persona does not exist, or it is not yours to edit.")
    return found


async def _published(services: Services, persona_id: str) -> dict[str, int]:
    async with services.database.session() as db:
        pubs = await store.publications(db)
    return {p.cohort_id: p.version for p in pubs if p.persona_id == persona_id}


async def _refresh(request: Request, services: Services) -> None:
    async with services.database.session() as db:
        pubs = await store.publications(db)
    refresh_offers(library_of(request), [(p.persona_id, p.version, p.cohort_id) for p in pubs])


@router.get("/personas", response_model=list[PersonaSummary])
async def list_authored(
    request: Request, services: ServicesDep, principal: CurrentUser
) -> list[PersonaSummary]:
    _author(principal)
    owner = None if principal.role == "admin" else principal.user_id
    async with services.database.session() as db:
        rows = await store.list_personas(db, owner_id=owner)
        pubs = await store.publications(db)
    library = library_of(request)
    return [
        PersonaSummary(
            id=p.id,
            name=(lib.name if (lib := library.personas.get(version_key(p.id, latest))) else p.id),
            latest=latest,
            published={x.cohort_id: x.version for x in pubs if x.persona_id == p.id},
        )
        for p, latest in rows
    ]


@router.post("/validate", response_model=Checked)
async def check(body: YamlIn, principal: CurrentUser) -> FastResponse | Checked:
    """Validate without saving: the editor shows every problem beside its field."""
    _author(principal)
    try:
        persona = validate(body.yaml)
    except PersonaError as exc:
        return _problems(exc)
    return Checked(ok=True, id=persona.id, name=persona.name)


@router.post("/personas", status_code=201, response_model=PersonaDetail)
async def create(
    body: YamlIn, request: Request, services: ServicesDep, principal: CurrentWriter
) -> FastResponse | PersonaDetail:
    """A new persona, typed in or imported from a YAML file; its id comes from the YAML."""
    _author(principal)
    try:
        persona = validate(body.yaml)
    except PersonaError as exc:
        return _problems(exc)
    if persona.id in services.personas:
        raise InvalidInput(f"id: {persona.id!r} is a built-in persona; give your version a new id.")
    async with services.database.session() as db:
        row = await store.create_persona(
            db,
            persona_id=persona.id,
            owner_id=principal.user_id,
            yaml_text=body.yaml,
            note=body.note or "created",
        )
    if row is None:
        raise InvalidInput(f"id: a persona called {persona.id!r} exists already; choose another.")
    register(library_of(request), persona.id, 1, body.yaml)
    return await _detail(services, persona.id)


async def _detail(services: Services, persona_id: str) -> PersonaDetail:
    async with services.database.session() as db:
        rows = await store.versions(db, persona_id=persona_id)
    return PersonaDetail(
        id=persona_id,
        latest=rows[-1].version,
        yaml=rows[-1].yaml_text,
        versions=[
            VersionOut(version=r.version, note=r.note, created_at=repo.aware(r.created_at))
            for r in rows
        ],
        published=await _published(services, persona_id),
    )


@router.get("/personas/{persona_id}", response_model=PersonaDetail)
async def read(persona_id: str, services: ServicesDep, principal: CurrentUser) -> PersonaDetail:
    await _owned(services, principal, persona_id)
    return await _detail(services, persona_id)


@router.put("/personas/{persona_id}", response_model=PersonaDetail)
async def save(
    persona_id: str,
    body: YamlIn,
    request: Request,
    services: ServicesDep,
    principal: CurrentWriter,
) -> FastResponse | PersonaDetail:
    """Save a new version. Earlier versions stay, for sessions that used them and for rollback."""
    await _owned(services, principal, persona_id)
    try:
        validate(body.yaml, persona_id=persona_id)
    except PersonaError as exc:
        return _problems(exc)
    async with services.database.session() as db:
        row = await store.add_version(
            db,
            persona_id=persona_id,
            author_id=principal.user_id,
            yaml_text=body.yaml,
            note=body.note,
        )
    register(library_of(request), persona_id, row.version, body.yaml)
    return await _detail(services, persona_id)


async def _version_text(services: Services, persona_id: str, version: int) -> str:
    async with services.database.session() as db:
        row = await store.get_version(db, persona_id=persona_id, version=version)
    if row is None:
        raise NotFound(f"Version {version} of this persona does not exist.")
    return row.yaml_text


@router.get("/personas/{persona_id}/versions/{version}.yaml", response_class=PlainTextResponse)
async def export_version(
    persona_id: str, version: int, services: ServicesDep, principal: CurrentUser
) -> PlainTextResponse:
    await _owned(services, principal, persona_id)
    text = await _version_text(services, persona_id, version)
    return PlainTextResponse(
        text,
        media_type="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{persona_id}.yaml"'},
    )


@router.get("/personas/{persona_id}/diff", response_class=PlainTextResponse)
async def diff(
    persona_id: str,
    services: ServicesDep,
    principal: CurrentUser,
    older: int = 1,
    newer: int = 2,
) -> PlainTextResponse:
    """A unified diff between two versions."""
    await _owned(services, principal, persona_id)
    a = await _version_text(services, persona_id, older)
    b = await _version_text(services, persona_id, newer)
    lines = difflib.unified_diff(
        a.splitlines(keepends=True),
        b.splitlines(keepends=True),
        fromfile=f"version {older}",
        tofile=f"version {newer}",
    )
    return PlainTextResponse("".join(lines))


@router.post("/personas/{persona_id}/rollback", response_model=PersonaDetail)
async def rollback(
    persona_id: str,
    body: RollbackIn,
    request: Request,
    services: ServicesDep,
    principal: CurrentWriter,
) -> PersonaDetail:
    """Bring an earlier version back as the newest (history is never rewritten)."""
    await _owned(services, principal, persona_id)
    text = await _version_text(services, persona_id, body.version)
    async with services.database.session() as db:
        row = await store.add_version(
            db,
            persona_id=persona_id,
            author_id=principal.user_id,
            yaml_text=text,
            note=f"rolled back to version {body.version}",
        )
    register(library_of(request), persona_id, row.version, text)
    return await _detail(services, persona_id)


@router.post("/personas/{persona_id}/publish", response_model=PersonaDetail)
async def publish(
    persona_id: str,
    body: PublishIn,
    request: Request,
    services: ServicesDep,
    principal: CurrentWriter,
) -> PersonaDetail:
    """Offer one version to exactly these cohorts (an empty list withdraws it)."""
    await _owned(services, principal, persona_id)
    await _version_text(services, persona_id, body.version)
    if principal.role != "admin":
        foreign = set(body.cohort_ids) - principal.cohort_ids
        if foreign:
            raise NotFound("cohort_ids: publish only to cohorts you belong to.")
    async with services.database.session() as db:
        await store.publish(
            db, persona_id=persona_id, version=body.version, cohort_ids=body.cohort_ids
        )
    await _refresh(request, services)
    return await _detail(services, persona_id)


@router.post("/personas/{persona_id}/preview", status_code=201, response_model=Preview)
async def preview(
    persona_id: str,
    body: RollbackIn,
    request: Request,
    services: ServicesDep,
    principal: CurrentWriter,
) -> Preview:
    """Start a practice session with one version, for its author to chat with."""
    await _owned(services, principal, persona_id)
    text = await _version_text(services, persona_id, body.version)
    key = register(library_of(request), persona_id, body.version, text)
    session = await services.engine.start_session(user_id=principal.user_id, persona_id=key)
    return Preview(session_id=session.id)


@router.get("/library/{persona_id}.yaml", response_class=PlainTextResponse)
async def library_yaml(
    persona_id: str, services: ServicesDep, principal: CurrentUser
) -> PlainTextResponse:
    """A built-in persona's file, to start a new persona from."""
    _author(principal)
    path = services.settings.personas_dir / f"{persona_id}.yaml"
    if "@" in persona_id or persona_id not in services.personas or not path.is_file():
        raise NotFound("There is no built-in persona with that id.")
    return PlainTextResponse(path.read_text(encoding="utf-8"), media_type="application/yaml")


@pages_router.get("/tutor/personas", response_class=HTMLResponse)
async def authoring_page(
    request: Request, services: ServicesDep, principal: OptionalPrincipal
) -> FastResponse:
    if principal is None:
        return RedirectResponse("/", status_code=303)
    _author(principal)
    builtins = [p for key, p in services.personas.items() if "@" not in key]
    return templates.TemplateResponse(
        request, "tutor_personas.html", page_context(services, principal, builtins=builtins)
    )
