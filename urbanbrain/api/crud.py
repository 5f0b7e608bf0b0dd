"""Plain create, read, update and list routes for an entity, written once: a domain describes the entity (its
shapes, permissions, how to find, list, show, create and update it) and :func:`add_routes` mounts

* ``GET    /<things>``           a page of them, filtered (``Page[XPublic]``)
* ``GET    /<things>/{key}``     one (``XPublic``)
* ``POST   /<things>``           a new one (201, ``XPublic``)
* ``PATCH  /<things>/{key}``     changed fields, with the ``version`` read (``XPublic``)

with the same dependencies every route uses (a session per request, the acting principal, its permission),
so only what differs between entities is written per entity.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations as objects, and the
# annotations below are made from the entity's own classes at run time.

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import Session

from urbanbrain.api.deps import SESSION, get_platform, require
from urbanbrain.api.paging import page_query
from urbanbrain.api.params import Id
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.paging import Page, PageRequest, paged


@dataclass(frozen=True)
class Resource:
    """One entity's routes. ``show_many`` turns a page of rows into public shapes at once (a shared lookup
    for the page instead of one per row); without it ``show`` is called per row."""

    path: str  # "/buildings"
    name: str  # "building": the OpenAPI summaries
    public: type[BaseModel]
    read: str  # the permission to list and read
    write: str  # the permission to create and update
    get: Callable[[Session, Platform, Principal, Any], Any]
    show: Callable[[Session, Platform, Principal, Any], Any]
    list_stmt: Callable[[Session, Platform, Principal, Any], Select[Any]]
    order: Any
    filters: type[BaseModel] | None = None
    create: type[BaseModel] | None = None
    update: type[BaseModel] | None = None
    do_create: Callable[[Session, Platform, Principal, Any], Any] | None = None
    do_update: Callable[[Session, Platform, Principal, Any, Any], Any] | None = None
    key: str = "code"  # the path parameter naming one
    key_type: type = str
    page_size: int = 100
    show_many: Callable[[Session, Platform, Principal, Sequence[Any]], list[Any]] | None = None


def _signature(*params: inspect.Parameter) -> inspect.Signature:
    return inspect.Signature(list(params))


def _param(name: str, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


def add_routes(router: APIRouter, r: Resource) -> None:
    """Mount the list, read, create and update routes of ``r`` on ``router``."""
    session = _param("session", Annotated[Session, SESSION])
    platform = _param("platform", Annotated[Platform, Depends(get_platform)])
    reader = _param("principal", Annotated[Principal, require(r.read)])
    writer = _param("principal", Annotated[Principal, require(r.write)])
    # An integer key is a row id: bounded to what the database holds.
    key = _param(r.key, Id if r.key_type is int else Annotated[r.key_type, Path()])
    page = _param("page", Annotated[PageRequest, Depends(page_query(r.page_size))])

    def shown(s: Session, p: Platform, who: Principal, rows: Sequence[Any]) -> list[Any]:
        if r.show_many is not None:
            return r.show_many(s, p, who, rows)
        return [r.show(s, p, who, row) for row in rows]

    def list_all(**kw: Any) -> Any:
        stmt = r.list_stmt(kw["session"], kw["platform"], kw["principal"], kw.get("filters"))
        found = paged(kw["session"], stmt, kw["page"], r.order)
        return {"items": shown(kw["session"], kw["platform"], kw["principal"], found.rows), **found.counts()}

    params = [session, platform, reader, page]
    if r.filters is not None:
        params.append(_param("filters", Annotated[r.filters, Query()]))
    list_all.__signature__ = _signature(*params)  # type: ignore[attr-defined]
    router.add_api_route(
        r.path, list_all, methods=["GET"], response_model=Page[r.public],  # type: ignore[name-defined]
        summary=f"List {r.name}s", name=f"list_{r.name}s",
    )  # fmt: skip

    def get_one(**kw: Any) -> Any:
        row = r.get(kw["session"], kw["platform"], kw["principal"], kw[r.key])
        return r.show(kw["session"], kw["platform"], kw["principal"], row)

    get_one.__signature__ = _signature(key, session, platform, reader)  # type: ignore[attr-defined]
    router.add_api_route(
        f"{r.path}/{{{r.key}}}", get_one, methods=["GET"], response_model=r.public,
        summary=f"Read one {r.name}", name=f"get_{r.name}",
    )  # fmt: skip

    if r.create is not None and r.do_create is not None:
        do_create = r.do_create

        def create(**kw: Any) -> Any:
            row = do_create(kw["session"], kw["platform"], kw["principal"], kw["body"])
            return r.show(kw["session"], kw["platform"], kw["principal"], row)

        create.__signature__ = _signature(_param("body", r.create), session, platform, writer)  # type: ignore[attr-defined]
        router.add_api_route(
            r.path, create, methods=["POST"], response_model=r.public, status_code=201,
            summary=f"Create a {r.name}", name=f"create_{r.name}",
        )  # fmt: skip

    if r.update is not None and r.do_update is not None:
        do_update = r.do_update

        def update(**kw: Any) -> Any:
            s, p, who = kw["session"], kw["platform"], kw["principal"]
            row = do_update(s, p, who, r.get(s, p, who, kw[r.key]), kw["body"])
            return r.show(s, p, who, row)

        update.__signature__ = _signature(key, _param("body", r.update), session, platform, writer)  # type: ignore[attr-defined]
        router.add_api_route(
            f"{r.path}/{{{r.key}}}", update, methods=["PATCH"], response_model=r.public,
            summary=f"Change a {r.name}", name=f"update_{r.name}",
        )  # fmt: skip
