"""The web UI: the built single-page app (``web/`` built by Vite into ``urbanbrain/webui``) served at the
paths people open - ``/`` the command centre, ``/work`` the workbench, ``/m/`` the citizens' pages, ``/f/<code>``
a facility's QR landing page - with a strict Content-Security-Policy, and ``/api/v1/ui/config``, what the
pages need to know about this deployment before anyone logs in."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from urbanbrain.api.deps import PlatformDep

BUILT = Path(str(files("urbanbrain") / "webui"))
# Paths the app answers with its page; the router in the browser picks the screen.
PAGES = ("/", "/login", "/work", "/work/{rest:path}", "/m", "/m/{rest:path}", "/f/{code}")

NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>UrbanBrain</title>
<body style="font-family:system-ui;max-width:40em;margin:3em auto;line-height:1.5">
<h1>界面尚未构建 / The web UI is not built</h1>
<p>在源码目录运行 <code>make web</code>（<code>make demo</code> 会自动构建）。API 文档在 <a href="/docs">/docs</a>。</p>
<p>Run <code>make web</code> in the source tree (<code>make demo</code> builds it too). The API docs are at
<a href="/docs">/docs</a>.</p></body></html>"""


def policy(tile_url: str | None) -> str:
    """The UI's Content-Security-Policy: everything from this server; a configured tile server may add images.
    Styles allow 'unsafe-inline' only for style attributes the map engine sets on its own elements."""
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{", "").replace("}", ""))
        tiles = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return (
        "default-src 'self'; "
        "script-src 'self'; "
        f"img-src 'self' data: blob:{tiles}; "
        f"connect-src 'self'{tiles}; "
        "style-src 'self'; style-src-attr 'unsafe-inline'; "
        "worker-src 'self' blob:; child-src blob:; "
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


# Swagger UI and ReDoc start themselves with an inline script: their pages get a policy that allows it.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds the Content-Security-Policy and its companions to every response (pure ASGI: streams, such as
    the live feed, pass through untouched)."""

    def __init__(self, app: ASGIApp, ui_policy: str) -> None:
        self.app = app
        self.ui_policy = ui_policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = DOCS_POLICY.encode() if path.startswith(("/docs", "/redoc")) else self.ui_policy

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if path.startswith("/assets/") and message["status"] == 200:
                    # built file names carry their content hash: a year in the cache, never stale
                    headers.append((b"cache-control", b"public, max-age=31536000, immutable"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class UiConfig(BaseModel):
    """What the pages need before anyone logs in."""

    open311_key: str | None = Field(
        description="The Open311 client key of the citizens' pages (identifies the app, not a person); "
        "null: online reporting is not configured."
    )
    tile_url: str | None = Field(description="A base-map tile URL in the registry's datum, or null.")
    district_code: str
    utc_offset_hours: int
    public_url: str


router = APIRouter(prefix="/api/v1/ui", tags=["ui"])
NOT_COMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/vnd.apache.parquet", "application/x-ndjson",
                  "text/csv")  # fmt: skip


@router.get("/config", response_model=UiConfig)
def config(platform: PlatformDep) -> dict[str, Any]:
    s = platform.settings
    return {
        "open311_key": s.web_open311_key,
        "tile_url": s.map_tile_url,
        "district_code": s.district_code,
        "utc_offset_hours": s.utc_offset_hours,
        "public_url": s.public_url,
    }


def install(app: FastAPI, tile_url: str | None) -> None:
    """Serve the built UI (or a page saying how to build it) and put the security headers on everything."""
    app.include_router(router)
    # the map's layers and the JS bundles are text that shrinks 4-8x; the live feed and photos are left alone,
    # and so are bulk data exports: compressing a data hub export on the fly held it to a sixth of its speed
    # (Parquet is compressed already; CSV and NDJSON go as they are)
    app.add_middleware(
        GZipMiddleware, minimum_size=1024, compresslevel=5, exclude_content_types=NOT_COMPRESSED
    )
    app.add_middleware(SecurityHeaders, ui_policy=policy(tile_url))
    index = BUILT / "index.html"
    if (BUILT / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=str(BUILT / "assets")), name="ui-assets")

    def page(request: Request) -> Response:
        if not index.exists():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    for path in PAGES:
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)

    @app.get("/favicon.svg", include_in_schema=False)
    def favicon() -> Response:
        icon = BUILT / "favicon.svg"
        return FileResponse(icon) if icon.exists() else Response(status_code=404)
