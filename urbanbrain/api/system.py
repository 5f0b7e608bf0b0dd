"""Health and introspection: ``/healthz``, ``/-/plugins``, ``/-/versions``."""

from __future__ import annotations

import platform as pyplatform
from datetime import datetime
from importlib.metadata import version
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from urbanbrain import __version__
from urbanbrain.api.deps import PlatformDep
from urbanbrain.core import plugins

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    checks: dict[str, str] = Field(
        description="database: ok or the error's type; outbox_pending: events not yet published."
    )
    time: datetime = Field(description="The platform clock's time (simulated in a demo).")


class PluginPublic(BaseModel):
    name: str
    kind: str = Field(description="domain or app.")
    version: str
    title: dict[str, str]
    depends_on: list[str]
    events: list[str] = Field(description="The event types it publishes.")
    permissions: list[str]


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer."}},
)
def healthz(platform: PlatformDep, response: Response) -> Health:
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
    response.status_code = 200 if ok else 503
    return Health(
        status="ok" if ok else "degraded", version=__version__, checks=checks, time=platform.clock.now()
    )


@router.get("/-/plugins", response_model=list[PluginPublic])
def list_plugins() -> list[PluginPublic]:
    """The domains and apps loaded, in dependency order."""
    return [
        PluginPublic(
            name=m.name,
            kind=m.kind,
            version=m.version,
            title={"zh-CN": m.title_zh, "en": m.title_en},
            depends_on=list(m.depends_on),
            events=list(m.events),
            permissions=list(m.permissions),
        )
        for m in plugins.order(plugins.discover())
    ]


@router.get("/-/versions", response_model=dict[str, str])
def versions(platform: PlatformDep) -> dict[str, str]:
    """UrbanBrain's version, Python's, the database dialect and the main libraries'."""
    out = {"urbanbrain": __version__, "python": pyplatform.python_version(), "database": platform.db.dialect}
    for pkg in ("fastapi", "sqlalchemy", "shapely", "pydantic"):
        out[pkg] = version(pkg)
    return out
