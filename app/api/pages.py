"""HTML pages. They render shells; the data comes from the JSON API, and model text is only
ever inserted as text by the browser code."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app import __version__
from app.auth.principal import Principal, ensure_can_read
from app.authoring import library_of
from app.deps import OptionalPrincipal, ServicesDep
from app.errors import NotFound
from app.history import sessions_of, sparkline, trend
from app.personas import Difficulty
from app.reports.model import DIMENSION_LABELS
from app.services import Services
from app.settings import PROJECT_ROOT
from app.storage import repo

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=PROJECT_ROOT / "frontend" / "templates")


def static_url(name: str) -> str:
    return f"/static/{name}?v={__version__}"


def report_url(session_id: str) -> str:
    """The session report's page (app/api/reports.py)."""
    return f"/sessions/{session_id}/report"


def _context(services: Services, principal: Principal | None, **extra: Any) -> dict[str, Any]:
    return {
        "user": principal,
        "csrf_token": principal.csrf_token if principal else "",
        "offline": services.client_model.offline or services.evaluator_model.offline,
        "client_label": services.client_model.label,
        "evaluator_label": services.evaluator_model.label,
        "static_url": static_url,
        "auth_backend": services.settings.auth_backend,
        **extra,
    }


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, services: ServicesDep, principal: OptionalPrincipal) -> Response:
    if principal is not None:
        return RedirectResponse("/practice", status_code=303)
    return templates.TemplateResponse(request, "signin.html", _context(services, None))


@router.get("/practice", response_class=HTMLResponse)
async def practice(
    request: Request, services: ServicesDep, principal: OptionalPrincipal
) -> Response:
    if principal is None:
        return RedirectResponse("/", status_code=303)
    return templates.TemplateResponse(
        request,
        "practice.html",
        _context(
            services,
            principal,
            personas=(offered := library_of(request).visible(principal)),
            styles=sorted({p.style for p in offered}),
            difficulties=_ordered_difficulties(services),
        ),
    )


def _ordered_difficulties(services: Services) -> list[str]:
    """The difficulties in use, easiest first (the order the persona format defines)."""
    present = {p.difficulty for p in services.personas.values()}
    return [d for d in get_args(Difficulty) if d in present]


@router.get("/history", response_class=HTMLResponse)
async def history(
    request: Request, services: ServicesDep, principal: OptionalPrincipal
) -> Response:
    """Past sessions in headline figures, with a trend the trainee can read at a glance."""
    if principal is None:
        return RedirectResponse("/", status_code=303)
    async with services.database.session() as db:
        summaries = await sessions_of(db, user_id=principal.user_id)
    overall = [s.overall for s in summaries]
    rows = [
        {
            "summary": s,
            "persona_name": p.name if (p := services.personas.get(s.persona_id)) else s.persona_id,
            "report_url": report_url(s.id),
        }
        for s in reversed(summaries)
    ]
    return templates.TemplateResponse(
        request,
        "history.html",
        _context(
            services,
            principal,
            rows=rows,
            dimensions=DIMENSION_LABELS,
            chart=sparkline(overall),
            trend=trend(overall),
        ),
    )


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
async def session_page(
    session_id: str, request: Request, services: ServicesDep, principal: OptionalPrincipal
) -> Response:
    if principal is None:
        return RedirectResponse("/", status_code=303)
    async with services.database.session() as db:
        session = ensure_can_read(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )
    persona = services.personas.get(session.persona_id)
    if persona is None:
        raise NotFound("The simulated client of this session is no longer available.")
    return templates.TemplateResponse(
        request,
        "session.html",
        _context(
            services,
            principal,
            session_id=session.id,
            persona=persona,
            planned_minutes=session.planned_minutes,
            status=session.status,
            report_url=report_url(session.id),
        ),
    )
