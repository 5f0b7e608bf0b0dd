"""Health and introspection: ``/healthz``, ``/-/plugins``, ``/-/versions``."""

from __future__ import annotations

import platform as pyplatform
from importlib.metadata import version

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from urbanbrain import __version__
from urbanbrain.api.deps import PlatformDep
from urbanbrain.core import plugins

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz(platform: PlatformDep) -> JSONResponse:
    """Liveness and readiness: the database answers and the outbox is draining."""
    checks: dict[str, str] = {}
    ok = True
    try:
        with platform.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            pending = conn.execute(
                text("SELECT count(*) FROM core_outbox WHERE published_at IS NULL")
            ).scalar()
        checks["database"] = "ok"
        checks["outbox_pending"] = str(pending)
    except Exception as exc:  # health must answer even when the database does not
        ok = False
        checks["database"] = f"error: {type(exc).__name__}"
    body = {
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "checks": checks,
        "time": platform.clock.now().isoformat(),
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/-/plugins")
def list_plugins() -> list[dict[str, object]]:
    return [
        {
            "name": m.name,
            "kind": m.kind,
            "version": m.version,
            "title": {"zh-CN": m.title_zh, "en": m.title_en},
            "depends_on": list(m.depends_on),
            "events": list(m.events),
            "permissions": list(m.permissions),
        }
        for m in plugins.order(plugins.discover())
    ]


@router.get("/-/versions")
def versions(platform: PlatformDep) -> dict[str, str]:
    out = {"urbanbrain": __version__, "python": pyplatform.python_version(), "database": platform.db.dialect}
    for pkg in ("fastapi", "sqlalchemy", "shapely", "pydantic"):
        out[pkg] = version(pkg)
    return out
