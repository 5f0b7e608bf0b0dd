"""Serving a grant: find it, write its query, run it in DuckDB over the lake, audit the access, hand the rows
over. The database session is closed while DuckDB works, so a long export holds no lock (SQLite's write
lock included); the audit row is written after the rows are counted and before the first byte leaves."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from fastapi import Request
from fastapi.responses import StreamingResponse

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.paging import PageRequest
from urbanbrain.domains.datahub import actions, queries
from urbanbrain.domains.datahub.models import Dataset, DatasetField, Grant
from urbanbrain.domains.datahub.serving import Column, Condition, GrantQuery, parse_filters, quote

register_messages(
    {
        "datahub.file_too_large": (
            413,
            "文件超过 {limit_mb} MB，请分批上传或改用 Parquet。",
            "The file is larger than {limit_mb} MB; upload it in parts or as Parquet.",
        ),
    }
)

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
EXPORTS = "_exports"  # beside the lake's tables, inside the folder DuckDB may write to
CHUNK = 1 << 20
FORMATS = {
    "parquet": ("(FORMAT parquet, COMPRESSION zstd)", "parquet", "application/vnd.apache.parquet"),
    "csv": ("(FORMAT csv, HEADER true)", "csv", "text/csv; charset=utf-8"),
    "ndjson": ("(FORMAT json)", "ndjson", "application/x-ndjson"),
}


async def read_body(request: Request) -> bytes:
    """The request body, refused past the upload limit before it is all read."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > MAX_UPLOAD_BYTES:
        raise UrbanBrainError("datahub.file_too_large", limit_mb=MAX_UPLOAD_BYTES >> 20)
    parts, got = [], 0
    async for chunk in request.stream():
        got += len(chunk)
        if got > MAX_UPLOAD_BYTES:
            raise UrbanBrainError("datahub.file_too_large", limit_mb=MAX_UPLOAD_BYTES >> 20)
        parts.append(chunk)
    return b"".join(parts)


def _grant_query(
    platform: Platform, principal: Principal, code: str, grant_id: int | None
) -> tuple[Dataset, Grant, GrantQuery]:
    """The grant the caller reads through and its query; a refusal is audited before it is answered."""
    with platform.db.session() as session:
        dataset = queries.get_dataset(session, code)
        try:
            grant = queries.grant_for(session, principal, dataset, platform.clock.now(), grant_id)
        except UrbanBrainError as refusal:
            session.rollback()
            actions.do_record_access(
                session, platform, principal, dataset=dataset, grant=None, kind="rows", rows=0,
                detail={"grant_asked": grant_id}, refused=refusal.code,
            )  # fmt: skip
            session.commit()
            raise
        fields = queries.fields_of(session, [dataset.id])[dataset.id]
        session.expunge_all()
    columns = {f.name: Column(f.name, f.type, f.mask) for f in fields}
    try:
        relation = queries.lake(platform).relation_sql(dataset.source)
    except KeyError:  # an upload whose first file has not come yet: its schema over no rows
        relation = _empty(fields)
    query = GrantQuery(
        relation=relation,
        columns=columns,
        granted=[(g["name"], g["mode"]) for g in grant.fields if g["name"] in columns],
        owner_rows=[
            Condition(r["field"], r["op"], r["value"]) for r in grant.rows or [] if r["field"] in columns
        ],
    )
    return dataset, grant, query


SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
             "timestamp": "TIMESTAMP", "date": "DATE"}  # fmt: skip


def _empty(fields: list[DatasetField]) -> str:
    columns = ", ".join(f"NULL::{SQL_TYPES[f.type]} AS {quote(f.name)}" for f in fields) or "NULL AS none"
    return f"(SELECT {columns} WHERE false)"


def _audit(
    platform: Platform, principal: Principal, dataset: Dataset, grant: Grant, kind: str, rows: int,
    detail: dict[str, Any],
) -> None:  # fmt: skip
    with platform.db.session() as session:
        actions.do_record_access(
            session, platform, principal, dataset=dataset, grant=grant, kind=kind, rows=rows, detail=detail
        )


def rows(
    platform: Platform,
    principal: Principal,
    code: str,
    filter_texts: list[str],
    sort: list[str],
    page: PageRequest,
    grant_id: int | None,
) -> dict[str, Any]:
    dataset, grant, query = _grant_query(platform, principal, code, grant_id)
    sql, params, count_sql, count_params = query.page_sql(
        parse_filters(filter_texts), sort, page.page_size, page.offset
    )
    cursor = queries.lake(platform).connect()
    try:
        table = cursor.execute(sql, params).to_arrow_table()
        total = cursor.execute(count_sql, count_params).fetchone()[0]  # type: ignore[index]
    except duckdb.Error:
        raise UrbanBrainError("datahub.query_failed") from None
    finally:
        cursor.close()
    items = table.to_pylist()
    _audit(platform, principal, dataset, grant, "rows", len(items),
           {"filters": filter_texts, "sort": sort, "page": page.page, "page_size": page.page_size})  # fmt: skip
    return {
        "items": items,
        "total": int(total),
        "page": page.page,
        "page_size": page.page_size,
        "grant": grant.id,
        "fields": [{"name": n, "mode": m} for n, m in query.granted],
    }


def export(
    platform: Platform,
    principal: Principal,
    code: str,
    fmt: str,
    filter_texts: list[str],
    sort: list[str],
    grant_id: int | None,
) -> StreamingResponse:
    dataset, grant, query = _grant_query(platform, principal, code, grant_id)
    sql, params = query.export_sql(parse_filters(filter_texts), sort)
    lake = queries.lake(platform)
    folder = lake.root / EXPORTS
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder)
    options, ext, media = FORMATS[fmt]
    path = folder / f"{uuid.uuid4().hex}.{ext}"
    cursor = lake.connect()
    try:
        # DuckDB writes the file in parallel, vectorised: no Python touches a row.
        count = cursor.execute(f"COPY ({sql}) TO '{_sql_text(path)}' {options}", params).fetchone()[0]  # type: ignore[index]
    except duckdb.Error:
        path.unlink(missing_ok=True)
        raise UrbanBrainError("datahub.query_failed") from None
    finally:
        cursor.close()
    try:
        _audit(platform, principal, dataset, grant, "export", int(count),
               {"format": fmt, "filters": filter_texts, "sort": sort})  # fmt: skip
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    headers = {
        "Content-Disposition": f'attachment; filename="{dataset.code}-grant{grant.id}.{ext}"',
        "Content-Length": str(path.stat().st_size),
        "X-Record-Count": str(count),
    }
    return StreamingResponse(_stream(path), media_type=media, headers=headers)


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")


def _stream(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


def _sweep(folder: Path, older_than_s: float = 3600) -> None:
    """Exports a crash or a dropped connection left behind."""
    cutoff = time.time() - older_than_s
    for leftover in folder.iterdir():
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < cutoff:
                os.unlink(leftover)
