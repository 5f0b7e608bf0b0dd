"""Every write of the data hub: publishing, requests and decisions, grants and their keys, uploads, and the
record of every access. Each changes its rows, writes the audit row and queues its event in one transaction."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from urbanbrain.core import audit
from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.actions import do_create_api_key, do_revoke_api_key
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.datahub import catalog, events, queries, uploads
from urbanbrain.domains.datahub.models import AccessRequest, Dataset, DatasetField, Grant, Usage
from urbanbrain.domains.datahub.schemas import AccessRequestCreate, DatasetPublish, Decision, RowCondition
from urbanbrain.domains.datahub.serving import coerce
from urbanbrain.domains.registry import queries as registry

register_messages(
    {
        "datahub.not_owner": (
            403,
            "只有数据责任部门（{owner}）的数据管理员可以这样做。",
            "Only a data steward of the owning department ({owner}) may do this.",
        ),
        "datahub.no_department": (
            422,
            "您的账号不属于任何部门，无法以部门名义申请数据。",
            "Your account belongs to no department, so it cannot request data for one.",
        ),
        "datahub.not_shared": (
            409,
            "数据集 {dataset} 属于不予共享类，不能申请。",
            "Dataset {dataset} is classed not shared (不予共享); it cannot be requested.",
        ),
        "datahub.unknown_field": (
            422,
            "数据集 {dataset} 没有字段：{fields}。其字段为：{known}。",
            "Dataset {dataset} has no field {fields}. Its fields are: {known}.",
        ),
        "datahub.beyond_request": (
            422,
            "只能批准申请中的字段，这些没有申请：{fields}。",
            "Only fields that were asked for can be approved; these were not: {fields}.",
        ),
        "datahub.only_masked": (
            422,
            "字段 {fields} 在数据湖中只存有脱敏值，不能明文共享。",
            "The lake holds only masked values of {fields}; they cannot be shared in the clear.",
        ),
        "datahub.already_decided": (
            409,
            "该申请已处理（{state}）。",
            "This request has already been decided ({state}).",
        ),
        "datahub.expiry_past": (
            422,
            "授权截止时间必须晚于现在。",
            "A grant's expiry must be in the future.",
        ),
        "datahub.grant_inactive": (
            409,
            "该授权已失效（已撤销或已过期）。",
            "This grant is no longer active (revoked or expired).",
        ),
        "datahub.not_consumer": (
            403,
            "只有被授权部门（{consumer}）的人员可以为该授权申领密钥。",
            "Only staff of the grant's department ({consumer}) may take a key for it.",
        ),
        "datahub.unknown_source": (
            422,
            "数据湖中没有数据表“{source}”。可选：{known}。",
            "The lake has no table '{source}'. Choose one of: {known}.",
        ),
        "datahub.not_upload": (
            409,
            "数据集 {dataset} 的数据来自平台自身，不能上传文件替换。",
            "Dataset {dataset} is fed by the platform itself; a file cannot replace it.",
        ),
    }
)


def _is_admin(principal: Principal) -> bool:
    return principal.role in ("admin", "system")


def check_owner(principal: Principal, dataset: Dataset) -> None:
    """Owners decide: a steward of the owning department, or an administrator."""
    if _is_admin(principal) or principal.department_code == dataset.owner_department:
        return
    raise UrbanBrainError("datahub.not_owner", owner=dataset.owner_department)


def _check_fields(dataset: Dataset, known: list[str], names: list[str]) -> None:
    unknown = [n for n in dict.fromkeys(names) if n not in known]
    if unknown:
        raise UrbanBrainError(
            "datahub.unknown_field", dataset=dataset.code, fields=", ".join(unknown), known=", ".join(known)
        )


def _check_rows(dataset: Dataset, fields: list[DatasetField], rows: list[RowCondition] | None) -> None:
    """Row conditions name real fields and carry values of their types."""
    types = {f.name: f.type for f in fields}
    _check_fields(dataset, list(types), [r.field for r in rows or []])
    for r in rows or []:
        for value in r.value if isinstance(r.value, list) else [r.value]:
            coerce(value, types[r.field], r.field)


# -- the catalog -----------------------------------------------------------------------------------------------


def do_publish_dataset(
    session: Session,
    platform: Platform,
    principal: Principal,
    body: DatasetPublish,
    version: int | None = None,
) -> Dataset:
    """Publish a dataset, or change one (its fields are replaced by the new schema)."""
    if body.owner_department not in registry.department_codes(session):
        raise UrbanBrainError("not_found", what=f"department {body.owner_department}")
    dataset = session.scalar(select(Dataset).where(Dataset.code == body.code))
    if dataset is not None:
        check_owner(principal, dataset)
        check_version(dataset, version)
    elif not _is_admin(principal) and principal.department_code != body.owner_department:
        raise UrbanBrainError("datahub.not_owner", owner=body.owner_department)
    if body.source_kind == "upload":
        source = f"uploads/{body.code}"
        specs = catalog.upload_fields(body.fields, dataset_fields(session, dataset) if dataset else None)
    else:
        source = body.source or catalog.default_source(body.source_kind)
        if source not in catalog.lake_sources():
            raise UrbanBrainError(
                "datahub.unknown_source", source=source, known=", ".join(catalog.lake_sources())
            )
        specs = catalog.lake_fields(source, body.fields)
    now = platform.clock.now()
    before = snapshot(dataset) if dataset else None
    values: dict[str, Any] = {
        "title_zh": body.title_zh,
        "title_en": body.title_en,
        "description": body.description,
        "owner_department": body.owner_department,
        "source_kind": body.source_kind,
        "source": source,
        "update_frequency": body.update_frequency,
        "sharing_class": body.sharing_class,
        "keywords": body.keywords,
        "updated_at": now,
    }
    if dataset is None:
        dataset = Dataset(code=body.code, published_by=principal.actor, published_at=now, **values)
        session.add(dataset)
    else:
        for key, value in values.items():
            setattr(dataset, key, value)
        for old in dataset_fields(session, dataset):
            session.delete(old)
    session.flush()
    for position, spec in enumerate(specs):
        session.add(DatasetField(dataset_id=dataset.id, position=position, **spec))
    after = snapshot(dataset)
    after["fields"] = [s["name"] + (" (protected)" if s["protected"] else "") for s in specs]
    record(
        session,
        platform.clock,
        principal,
        action="datahub.dataset.publish",
        entity_type="datahub_dataset",
        entity_id=dataset.code,
        before=before,
        after=after,
        event=events.DATASET_PUBLISHED,
        payload={"code": dataset.code, "owner_department": dataset.owner_department},
    )
    return dataset


def dataset_fields(session: Session, dataset: Dataset) -> list[DatasetField]:
    return list(
        session.scalars(
            select(DatasetField).where(DatasetField.dataset_id == dataset.id).order_by(DatasetField.position)
        )
    )


def do_upload_rows(
    session: Session, platform: Platform, principal: Principal, code: str, data: bytes, content_type: str
) -> int:
    """Replace an uploaded dataset's rows with a CSV or Parquet file; returns the rows taken."""
    dataset = queries.get_dataset(session, code)
    check_owner(principal, dataset)
    if dataset.source_kind != "upload":
        raise UrbanBrainError("datahub.not_upload", dataset=code)
    fields = dataset_fields(session, dataset)
    table: pa.Table = uploads.read_table(data, content_type, fields)
    if not fields:  # the first file gives the schema
        for position, spec in enumerate(uploads.infer_fields(table)):
            session.add(DatasetField(dataset_id=dataset.id, position=position, **spec))
    queries.lake(platform).write_upload(code, table)
    dataset.updated_at = platform.clock.now()
    record(
        session,
        platform.clock,
        principal,
        action="datahub.dataset.upload",
        entity_type="datahub_dataset",
        entity_id=code,
        before=None,
        after={"rows": table.num_rows, "columns": table.column_names},
        event=events.DATASET_PUBLISHED,
        payload={"code": code, "owner_department": dataset.owner_department, "rows": table.num_rows},
    )
    return int(table.num_rows)


# -- requests, decisions, grants --------------------------------------------------------------------------------


def do_submit_request(
    session: Session, platform: Platform, principal: Principal, body: AccessRequestCreate
) -> AccessRequest:
    """A department asks for a dataset. An unconditionally shared dataset is granted at once (protected
    fields masked); a conditionally shared one waits for its owner; a dataset not shared is refused."""
    if not principal.department_code:
        raise UrbanBrainError("datahub.no_department")
    dataset = queries.get_dataset(session, body.dataset)
    if dataset.sharing_class == "not_shared":
        raise UrbanBrainError("datahub.not_shared", dataset=dataset.code)
    fields = dataset_fields(session, dataset)
    _check_fields(dataset, [f.name for f in fields], body.fields)
    _check_rows(dataset, fields, body.rows)
    now = platform.clock.now()
    req = AccessRequest(
        dataset_id=dataset.id,
        consumer_department=principal.department_code,
        requested_by=principal.actor,
        purpose=body.purpose,
        fields=list(dict.fromkeys(body.fields)),
        rows=[r.model_dump() for r in body.rows] if body.rows else None,
        state="pending",
        created_at=now,
    )
    session.add(req)
    session.flush()
    record(
        session,
        platform.clock,
        principal,
        action="datahub.request.submit",
        entity_type="datahub_request",
        entity_id=req.id,
        before=None,
        after=snapshot(req),
        event=events.REQUEST_SUBMITTED,
        payload={"dataset": dataset.code, "consumer_department": req.consumer_department},
    )
    if dataset.sharing_class == "unconditional":
        _decide(session, platform, principal, req, dataset, Decision(decision="approve"), automatic=True)
    return req


def do_decide_request(
    session: Session,
    platform: Platform,
    principal: Principal,
    request_id: int,
    body: Decision,
    version: int | None = None,
) -> AccessRequest:
    """The owner approves (all, some fields, some rows, until a date) or refuses."""
    req = queries.get_request(session, request_id)
    dataset = session.get(Dataset, req.dataset_id)
    assert dataset is not None
    check_owner(principal, dataset)
    check_version(req, version)
    if req.state != "pending":
        raise UrbanBrainError("datahub.already_decided", state=req.state)
    _decide(session, platform, principal, req, dataset, body, automatic=False)
    return req


def _decide(
    session: Session,
    platform: Platform,
    principal: Principal,
    req: AccessRequest,
    dataset: Dataset,
    body: Decision,
    *,
    automatic: bool,
) -> None:
    now = platform.clock.now()
    before = snapshot(req)
    fields = {f.name: f for f in dataset_fields(session, dataset)}
    grant = None
    if body.decision == "approve":
        names = body.fields if body.fields is not None else req.fields
        beyond = [n for n in names if n not in req.fields]
        if beyond:
            raise UrbanBrainError("datahub.beyond_request", fields=", ".join(beyond))
        clear = set(body.clear)
        _check_fields(dataset, list(fields), list(clear))
        lake_masked = [n for n in clear if not catalog.can_be_clear(dataset.source_kind, fields[n])]
        if lake_masked:
            raise UrbanBrainError("datahub.only_masked", fields=", ".join(sorted(lake_masked)))
        _check_rows(dataset, list(fields.values()), body.rows)
        if body.expires_at is not None and body.expires_at <= now:
            raise UrbanBrainError("datahub.expiry_past")
        # The owner's row conditions add to the consumer's own: a grant never covers more rows than asked for.
        rows = (req.rows or []) + [r.model_dump() for r in body.rows or []]
        chosen = [n for n in fields if n in set(names)]  # the dataset's order
        grant = Grant(
            request_id=req.id,
            dataset_id=dataset.id,
            consumer_department=req.consumer_department,
            purpose=req.purpose,
            fields=[
                {"name": n, "mode": "masked" if fields[n].protected and n not in clear else "clear"}
                for n in chosen
            ],
            rows=rows or None,
            granted_by="system:unconditional" if automatic else principal.actor,
            granted_at=now,
            expires_at=body.expires_at,
        )
        session.add(grant)
    req.state = "approved" if body.decision == "approve" else "refused"
    req.decided_by = "system:unconditional" if automatic else principal.actor
    req.decided_at = now
    req.reason = body.reason or ("无条件共享 / unconditionally shared" if automatic else None)
    session.flush()
    after = snapshot(req)
    if grant is not None:
        after["grant"] = {"id": grant.id, "fields": grant.fields, "rows": grant.rows}
    record(
        session,
        platform.clock,
        principal,
        action="datahub.request.decide",
        entity_type="datahub_request",
        entity_id=req.id,
        before=before,
        after=after,
        event=events.REQUEST_DECIDED,
        payload={
            "dataset": dataset.code,
            "consumer_department": req.consumer_department,
            "state": req.state,
            "grant_id": grant.id if grant else None,
        },
    )


def do_revoke_grant(
    session: Session, platform: Platform, principal: Principal, grant_id: int, reason: str
) -> Grant:
    """End a grant now; its key stops working with it."""
    grant = queries.get_grant(session, grant_id)
    dataset = session.get(Dataset, grant.dataset_id)
    assert dataset is not None
    check_owner(principal, dataset)
    if grant.revoked_at is not None:
        raise UrbanBrainError("datahub.grant_inactive")
    before = snapshot(grant)
    grant.revoked_at = platform.clock.now()
    grant.revoked_by = principal.actor
    if grant.api_key_id is not None:
        do_revoke_api_key(session, platform.clock, principal, grant.api_key_id)
    session.flush()
    after = snapshot(grant)
    after["reason"] = reason
    record(
        session,
        platform.clock,
        principal,
        action="datahub.grant.revoke",
        entity_type="datahub_grant",
        entity_id=grant.id,
        before=before,
        after=after,
        event=events.GRANT_REVOKED,
        payload={"dataset": dataset.code, "consumer_department": grant.consumer_department},
    )
    return grant


def do_issue_grant_key(
    session: Session, platform: Platform, principal: Principal, grant_id: int
) -> tuple[Grant, str, str]:
    """A key for the consumer's systems that reads this grant and nothing else; a new key replaces the old."""
    grant = queries.get_grant(session, grant_id)
    if not _is_admin(principal) and principal.department_code != grant.consumer_department:
        raise UrbanBrainError("datahub.not_consumer", consumer=grant.consumer_department)
    if not queries.grant_active(grant, platform.clock.now()):
        raise UrbanBrainError("datahub.grant_inactive")
    before = snapshot(grant)
    if grant.api_key_id is not None:
        do_revoke_api_key(session, platform.clock, principal, grant.api_key_id)
    key, full = do_create_api_key(
        session,
        platform.clock,
        principal,
        name=f"datahub grant {grant.id} ({grant.consumer_department})",
        scopes=["datahub:data"],
        department_code=grant.consumer_department,
    )
    grant.api_key_id = key.id
    session.flush()
    record(
        session,
        platform.clock,
        principal,
        action="datahub.grant.key",
        entity_type="datahub_grant",
        entity_id=grant.id,
        before=before,
        after=snapshot(grant),
    )
    return grant, full, key.prefix


# -- access ------------------------------------------------------------------------------------------------------


def do_record_access(
    session: Session,
    platform: Platform,
    principal: Principal,
    *,
    dataset: Dataset,
    grant: Grant | None,
    kind: str,
    rows: int,
    detail: dict[str, Any],
    refused: str | None = None,
) -> None:
    """Every read, export and refused attempt goes into the hash-chained audit (who, which grant, what purpose,
    how many rows); reads and exports also count in the day's usage."""
    now = platform.clock.now()
    audit.append(
        session,
        at=now,
        actor=principal.actor,
        action=f"datahub.data.{kind}" if refused is None else "datahub.data.refused",
        entity_type="datahub_grant" if grant else "datahub_dataset",
        entity_id=grant.id if grant else dataset.code,
        before=None,
        after={
            "dataset": dataset.code,
            "grant": grant.id if grant else None,
            "consumer_department": grant.consumer_department if grant else principal.department_code,
            "purpose": grant.purpose if grant else None,
            "rows": rows,
            **({"refused": refused} if refused else {}),
            **detail,
        },
    )
    if grant is not None and refused is None:
        _count_usage(session, dataset.id, grant.consumer_department, _local_day(platform, now), rows)


def _local_day(platform: Platform, now: datetime) -> date:
    return (now + timedelta(hours=platform.settings.utc_offset_hours)).date()


def _count_usage(session: Session, dataset_id: int, consumer: str, day: date, rows: int) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Usage).values(
        dataset_id=dataset_id, consumer_department=consumer, day=day, accesses=1, records=rows
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["dataset_id", "consumer_department", "day"],
        set_={"accesses": Usage.accesses + 1, "records": Usage.records + rows},
    )
    session.execute(stmt)
