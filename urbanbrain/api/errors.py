"""Every error leaves as ``{"code", "message", "messages"}``; never a stack trace."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from urbanbrain.api.deps import language
from urbanbrain.core.errors import UrbanBrainError

log = logging.getLogger("urbanbrain.api")


def error_response(
    request: Request, err: UrbanBrainError, headers: dict[str, str] | None = None
) -> JSONResponse:
    if err.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(err.to_dict(language(request)), status_code=err.status, headers=headers)


def _summarise(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'body'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(UrbanBrainError)
    async def _ub(request: Request, exc: UrbanBrainError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(request, UrbanBrainError("request.malformed"))
        detail = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in errors
        ]
        return error_response(
            request, UrbanBrainError("request.invalid", summary=_summarise(errors), detail=detail)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(request, UrbanBrainError("route.not_found", path=request.url.path))
        if exc.status_code == 405:
            return error_response(request, UrbanBrainError("method.not_allowed"))
        ref = uuid.uuid4().hex[:12]
        log.warning("http error %s (%s): %s", exc.status_code, ref, exc.detail)
        return JSONResponse(
            {"code": f"http.{exc.status_code}", "message": str(exc.detail)}, status_code=exc.status_code
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        # Someone else's write landed between our read and our write (optimistic concurrency in SQL).
        return error_response(request, UrbanBrainError("conflict.concurrent"))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", ref, request.method, request.url.path)
        return error_response(request, UrbanBrainError("internal", ref=ref))
