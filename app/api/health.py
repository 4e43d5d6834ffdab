"""Liveness, readiness and metrics, for orchestrators and Prometheus (no sign-in, no text).

/healthz   the process is alive and serving requests
/readyz    the database answers and each role has a model endpoint that answers; the result
           is cached for `readiness_cache_seconds` so probes from many places stay cheap
/metrics   Prometheus exposition of this process's metrics
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.errors import NotFound
from app.llm.anthropic import API_VERSION, DEFAULT_BASE_URL
from app.observability.metrics import exposition
from app.services import Services
from app.settings import RoleSettings

router = APIRouter(tags=["operations"])

PROBE_TIMEOUT = 3.0


async def probe_endpoint(client: httpx.AsyncClient, settings: RoleSettings) -> str | None:
    """None when the endpoint answers; otherwise what is wrong, naming only its host."""
    if settings.provider == "scripted":
        return None
    key = settings.api_key.get_secret_value()
    if settings.provider == "anthropic":
        base = (settings.base_url or DEFAULT_BASE_URL).rstrip("/").removesuffix("/v1")
        url = f"{base}/v1/models"
        headers = {"anthropic-version": API_VERSION, **({"x-api-key": key} if key else {})}
    else:
        url = f"{settings.base_url.rstrip('/')}/models"
        headers = {"Authorization": f"Bearer {key}"} if key else {}
    host = httpx.URL(url).host or "(no host)"
    try:
        response = await client.get(url, headers=headers, timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as exc:
        return f"{host} cannot be reached ({type(exc).__name__})"
    if response.status_code in (401, 403):
        return f"{host} refuses the API key (HTTP {response.status_code})"
    if response.status_code >= 500:
        return f"{host} is unavailable (HTTP {response.status_code})"
    return None  # answered; a server without a model list (404) is still reachable


async def _role(client: httpx.AsyncClient, settings: RoleSettings) -> str:
    problems = []
    for endpoint in settings.endpoints():
        problem = await probe_endpoint(client, endpoint)
        if problem is None:
            return "ok"
        problems.append(problem)
    return "; ".join(problems)


async def _database(services: Services) -> str:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), services.database.session() as db:
            await db.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; the kind is enough to act on
        return f"unreachable ({type(exc).__name__})"
    return "ok"


@dataclass
class Readiness:
    checked_at: float = -1.0
    result: dict[str, str] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def check(self, services: Services) -> dict[str, str]:
        ttl = services.settings.readiness_cache_seconds
        async with self.lock:
            if self.result and time.monotonic() - self.checked_at < ttl:
                return self.result
            async with httpx.AsyncClient() as client:
                database, client_role, evaluator_role = await asyncio.gather(
                    _database(services),
                    _role(client, services.settings.client),
                    _role(client, services.settings.evaluator),
                )
            self.result = {
                "database": database,
                "client_model": client_role,
                "evaluator_model": evaluator_role,
            }
            self.checked_at = time.monotonic()
            return self.result


def _readiness(request: Request) -> Readiness:
    state = request.app.state
    if not hasattr(state, "readiness"):
        state.readiness = Readiness()
    readiness: Readiness = state.readiness
    return readiness


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    checks = await _readiness(request).check(services)
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    if not services.settings.metrics_enabled:
        raise NotFound("Metrics are turned off (ALLIANCE_METRICS_ENABLED=false).")
    body, content_type = exposition()
    return Response(body, media_type=content_type)
