"""The session report: as JSON, as Markdown and JSON downloads, and as a printable page.

Every read checks the session with `ensure_can_read` (others get the same 404 as a missing
session). The report covers the path ending at the latest turn, whether or not the session has
ended. No transcript text is logged here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from app.api.pages import _context, templates
from app.auth.principal import Principal, ensure_can_read
from app.deps import CurrentUser, OptionalPrincipal, ServicesDep
from app.reports import charts, export
from app.reports.client_voice import ClientVoice
from app.reports.model import (
    BALANCE_LABELS,
    DIMENSION_LABELS,
    SessionReport,
    report_json_schema,
    signed,
)
from app.reports.service import ReportService
from app.services import Services
from app.storage import repo
from app.storage.tables import PracticeSession

router = APIRouter(tags=["reports"])


def report_service(request: Request, services: Services) -> ReportService:
    """One report service per running app, made on first use (it keeps a small rating cache)."""
    reports: ReportService | None = getattr(request.app.state, "reports", None)
    if reports is None or reports.engine is not services.engine:
        reports = ReportService(
            database=services.database,
            engine=services.engine,
            voice=ClientVoice(
                mode=services.settings.report_client_voice,
                model=services.client_model,
                prompts=services.prompts,
            ),
        )
        request.app.state.reports = reports
    return reports


async def _readable(services: Services, principal: Principal, session_id: str) -> PracticeSession:
    async with services.database.session() as db:
        return ensure_can_read(
            principal, await repo.get_practice_session(db, session_id=session_id)
        )


async def _report(
    request: Request, services: Services, principal: Principal, session_id: str
) -> SessionReport:
    session = await _readable(services, principal, session_id)
    return await report_service(request, services).report(session)


def _download(content: str, *, media_type: str, name: str) -> Response:
    return Response(
        content.encode("utf-8"),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/api/sessions/{session_id}/report", response_model=SessionReport)
async def report_json(
    session_id: str, request: Request, services: ServicesDep, principal: CurrentUser
) -> JSONResponse:
    """The report of the path taken so far (schema: `/api/reports/schema.json`)."""
    report = await _report(request, services, principal, session_id)
    return JSONResponse(report.export(), headers={"Cache-Control": "private, no-store"})


@router.get("/api/sessions/{session_id}/report.md", response_class=Response)
async def report_markdown_download(
    session_id: str, request: Request, services: ServicesDep, principal: CurrentUser
) -> Response:
    report = await _report(request, services, principal, session_id)
    return _download(
        export.to_markdown(report),
        media_type="text/markdown; charset=utf-8",
        name=export.filename(report, "md"),
    )


@router.get("/api/sessions/{session_id}/report.json", response_class=Response)
async def report_json_download(
    session_id: str, request: Request, services: ServicesDep, principal: CurrentUser
) -> Response:
    report = await _report(request, services, principal, session_id)
    return _download(
        export.to_json(report),
        media_type="application/json",
        name=export.filename(report, "json"),
    )


@router.get("/api/reports/schema.json")
async def report_schema() -> JSONResponse:
    """The JSON Schema the JSON export follows (it holds no data, so no sign-in is needed)."""
    return JSONResponse(report_json_schema())


def page_context(report: SessionReport) -> dict[str, Any]:
    """What the page template needs beyond the report: the charts, already escaped SVG."""
    title = f"Alliance dimensions turn by turn, with {report.persona_name}"
    return {
        "r": report,
        "dimension_labels": DIMENSION_LABELS,
        "balance_labels": BALANCE_LABELS,
        "signed": signed,
        "trajectory_svg": Markup(  # noqa: S704 - every text in the SVG is escaped by charts
            charts.trajectory_svg(report.turns, report.dimensions, title=title)
        ),
        "balance_svg": Markup(  # noqa: S704 - every text in the SVG is escaped by charts
            charts.balance_svg(
                report.balance.values,
                title="Direction balance turn by turn",
                summary=report.balance.summary,
            )
        ),
        "api_base": f"/api/sessions/{report.session_id}",
    }


@router.get("/sessions/{session_id}/report", response_class=HTMLResponse, include_in_schema=False)
async def report_page(
    session_id: str, request: Request, services: ServicesDep, principal: OptionalPrincipal
) -> Response:
    if principal is None:
        return RedirectResponse("/", status_code=303)
    report = await _report(request, services, principal, session_id)
    return templates.TemplateResponse(
        request,
        "report.html",
        _context(services, principal, **page_context(report)),
        headers={"Cache-Control": "private, no-store"},
    )
