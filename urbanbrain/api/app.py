"""The app factory: builds the platform, mounts core and every plugin's router, starts the outbox relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from urbanbrain import __version__
from urbanbrain.api import auth, errors, live, metrics, notifications, system, web
from urbanbrain.core import plugins
from urbanbrain.core.config import Settings
from urbanbrain.core.context import Platform
from urbanbrain.core.notify import DeliveryWorker

DESCRIPTION = """UrbanBrain, the district brain (城区大脑): registry, sensing, cases, data sharing and services
for a city district. Log in with **Authorize** (OAuth2 password flow) using the credentials that
`make demo` printed, then try the registry endpoints."""


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    """Build the app. Pass ``platform`` to share one (tests, the demo); otherwise one is built from settings."""
    owned = platform is None
    platform = platform or Platform.build(settings or Settings())

    services: list[Any] = []  # background workers the plugins ask for

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        plugins.subscribe_consumers(platform)
        platform.relay.start()
        for service in services:
            service.start()
        try:
            yield
        finally:
            for service in reversed(services):
                service.stop()
            if owned:
                platform.close()
            else:
                platform.relay.stop()

    app = FastAPI(
        title="UrbanBrain",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(errors.refuse_deep_json)],
    )
    _offline_docs(app)
    app.state.platform = platform
    errors.install(app)
    metrics.install(app, platform.metrics)
    # Each router publishes the error body with the statuses its routes can answer.
    staff = errors.responses(*errors.STAFF)
    app.include_router(system.router)
    app.include_router(auth.router, responses=staff)
    app.include_router(notifications.router, responses=staff)
    app.include_router(notifications.moved)
    app.include_router(live.router, responses=errors.responses(401, 403))
    if platform.settings.worker_seconds > 0:
        services.append(DeliveryWorker(platform, platform.settings.worker_seconds))
    for manifest, api in plugins.load():
        app.include_router(api.router, prefix=manifest.api_prefix, responses=staff)
        setup = getattr(api, "setup", None)
        if setup is not None:
            services.extend(setup(app, platform) or [])

    web.install(app, platform.settings.map_tile_url)  # the UI's pages after the APIs: / is the command centre
    return app


def _offline_docs(app: FastAPI) -> None:
    """Serve Swagger UI and ReDoc from packaged assets: a city's network often reaches no CDN."""
    assets = "/-/static/docs"
    app.mount(assets, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="UrbanBrain API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="UrbanBrain API",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,  # nothing is fetched from outside the machine
        )
