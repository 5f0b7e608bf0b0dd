"""Every error leaves as ``{"code", "message", "messages"}``; never a stack trace. The shape is published
(:class:`ErrorPublic`) with the statuses each router can answer, so /openapi.json says what comes back."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from urbanbrain.api.deps import language
from urbanbrain.core.errors import UrbanBrainError, register_messages

log = logging.getLogger("urbanbrain.api")

# Deeper JSON than any of our shapes (a GeoJSON MultiPolygon is 5 levels) only exhausts the recursion of
# whatever walks it later (validation, the audit's snapshot, the answer's serializer).
MAX_JSON_DEPTH = 64

register_messages(
    {
        "request.too_deep": (
            400,
            "请求正文的 JSON 嵌套过深（超过 {max} 层），无法处理。",
            "The request body's JSON is nested too deeply (more than {max} levels) to be read.",
        ),
        "request.refused": (
            400,
            "请求被拒绝（HTTP {status}）：{reason}。",
            "The request was refused (HTTP {status}): {reason}.",
        ),
    }
)


class ErrorMessages(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    zh_cn: str = Field(alias="zh-CN")
    en: str


class ErrorPublic(BaseModel):
    """A refusal or a failure: a machine code, the sentence in the caller's language, both sentences."""

    code: str = Field(description="A machine code, e.g. request.invalid or cases.not_found.")
    message: str = Field(description="In Chinese when Accept-Language starts with zh, else in English.")
    messages: ErrorMessages
    detail: Any = Field(
        default=None, description="request.invalid: the failing fields ({loc, msg, type}); others: context."
    )


_MEANING = {
    400: "The body could not be read (request.malformed, request.too_deep)",
    401: "Not logged in, or the token or API key is invalid (auth.*)",
    403: "Your role lacks the permission, or the record is outside your data scope",
    404: "No such record",
    409: "Conflicts with existing data, or someone changed the record since you read it (stale)",
    413: "The body is too large",
    422: "Not valid: request.invalid names the failing fields in detail",
    429: "Too many requests: wait for Retry-After seconds",
    503: "Busy or not running: try again shortly",
}
STAFF = (400, 401, 403, 404, 409, 422)  # what any route behind a login can answer


def responses(*statuses: int, said: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring the platform's error body for ``statuses`` (``said``: a route's own
    description of some)."""
    said = said or {}
    return {s: {"model": ErrorPublic, "description": said.get(s) or _MEANING[s]} for s in statuses}


def error_response(
    request: Request, err: UrbanBrainError, headers: dict[str, str] | None = None, status: int | None = None
) -> JSONResponse:
    if err.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(err.to_dict(language(request)), status_code=status or err.status, headers=headers)


def _summarise(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'body'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


def _depth(value: Any) -> int:
    """How deep a parsed JSON value nests, walked without recursion (recursion is what it must not exhaust)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _json_typed(request: Request) -> bool:
    """Whether FastAPI reads this body as JSON: typed so, or not typed at all."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media in ("", "application/json") or (media.startswith("application/") and media.endswith("+json"))


async def refuse_deep_json(request: Request) -> None:
    """A dependency of every route: a JSON body FastAPI parsed must nest at most ``MAX_JSON_DEPTH`` levels.
    Bodies a route reads itself (the readings door) are its own business."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None or not _json_typed(request):
        return
    body = await request.body()  # read once and kept: FastAPI has already read it
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return  # no more brackets than the limit: it cannot nest deeper, whatever it is
    try:
        parsed = await request.json()  # parsed once and kept, as FastAPI has already parsed it
    except ValueError:
        return  # not JSON: a form, refused or taken by the route
    if _depth(parsed) > MAX_JSON_DEPTH:
        raise UrbanBrainError("request.too_deep", max=MAX_JSON_DEPTH)


@lru_cache(maxsize=1024)
def _template(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def allowed_methods(request: Request, *, skip: Callable[..., Any] | None = None) -> list[str]:
    """The methods of the resource at the request's path (routes other than endpoint ``skip``'s): the
    ``Allow`` of a 405. Starlette names only the methods of the first route with the path, and the list,
    create and update of one entity are separate routes. The resource is the most literal template that
    matches: ``/cases/classify`` (POST), not ``/cases/{ref}``, which a GET of that path would also reach."""
    path = request.scope.get("path", "")
    found: dict[int, set[str]] = {}  # by how many parameters the template has
    for route in iter_route_contexts(request.app.routes):
        if route.path and route.methods and route.endpoint is not skip and _template(route.path).match(path):
            found.setdefault(route.path.count("{"), set()).update(route.methods)
    return sorted(found[min(found)]) if found else []


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
        headers = dict(exc.headers or {})  # 405 carries Allow, 401 WWW-Authenticate
        if exc.status_code == 404:
            return error_response(request, UrbanBrainError("route.not_found", path=request.url.path), headers)
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
            return error_response(request, UrbanBrainError("method.not_allowed"), headers)
        if exc.status_code == 400:
            # FastAPI's "There was an error parsing the body": the JSON parser ran out of recursion, or
            # a form could not be read.
            too_deep = isinstance(exc.__cause__, RecursionError)
            err = (
                UrbanBrainError("request.too_deep", max=MAX_JSON_DEPTH)
                if too_deep
                else UrbanBrainError("request.malformed")
            )
            return error_response(request, err, headers)
        log.warning(
            "http error %s on %s %s: %s", exc.status_code, request.method, request.url.path, exc.detail
        )
        refused = UrbanBrainError("request.refused", status=exc.status_code, reason=exc.detail)
        return error_response(request, refused, headers, status=exc.status_code)

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        # A body nested deeper than the code that walks it can follow; refuse_deep_json stops the bodies
        # FastAPI parses, so this is one a route parsed itself. Logged: it could also be a bug of ours.
        log.warning("recursion limit on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(request, UrbanBrainError("request.too_deep", max=MAX_JSON_DEPTH))

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        # Someone else's write landed between our read and our write (optimistic concurrency in SQL).
        return error_response(request, UrbanBrainError("conflict.concurrent"))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", ref, request.method, request.url.path)
        return error_response(request, UrbanBrainError("internal", ref=ref))
