"""Every read of the data hub; ``lake(platform)`` is the district lake other plugins query through."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.models import ApiKey, AuditEntry
from urbanbrain.domains.datahub.lake.store import DistrictLake
from urbanbrain.domains.datahub.models import AccessRequest, Dataset, DatasetField, Grant, Usage

register_messages(
    {
        "datahub.grant_ended": (
            403,
            "授权 {grant} 已撤销或已过期，不能再读取。如仍需要，请重新提出共享申请。",
            "Grant {grant} has been revoked or has expired; it reads nothing more. Request the data again if "
            "you still need it.",
        ),
        "datahub.no_grant": (
            403,
            "您（所在部门或所用密钥）对数据集 {dataset} 没有有效授权。请先提出共享申请。",
            "You (your department, or this key) hold no active grant for dataset {dataset}. Request it first.",
        ),
    }
)

LAKE_KEY = "datahub.lake"
_lake_lock = threading.Lock()


def lake(platform: Platform) -> DistrictLake:
    """The platform's district lake under ``<data_dir>/lake``, opened once."""
    with _lake_lock:
        found = platform.caches.get(LAKE_KEY)
        if found is None:
            s = platform.settings
            found = platform.caches[LAKE_KEY] = DistrictLake(
                s.data_dir / "lake", utc_offset_hours=s.utc_offset_hours
            )
        return found  # type: ignore[no-any-return]


def get_dataset(session: Session, code: str) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.code == code))
    if dataset is None:
        raise UrbanBrainError("not_found", what=f"dataset {code[:60]}")
    return dataset


def get_request(session: Session, request_id: int) -> AccessRequest:
    req = session.get(AccessRequest, request_id)
    if req is None:
        raise UrbanBrainError("not_found", what=f"data request {request_id}")
    return req


def get_grant(session: Session, grant_id: int) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise UrbanBrainError("not_found", what=f"grant {grant_id}")
    return grant


def grant_active(grant: Grant, now: datetime) -> bool:
    return grant.revoked_at is None and (grant.expires_at is None or grant.expires_at > now)


def fields_of(session: Session, dataset_ids: list[int]) -> dict[int, list[DatasetField]]:
    out: dict[int, list[DatasetField]] = {i: [] for i in dataset_ids}
    rows = session.scalars(
        select(DatasetField).where(DatasetField.dataset_id.in_(dataset_ids)).order_by(DatasetField.position)
    )
    for f in rows:
        out[f.dataset_id].append(f)
    return out


def datasets_stmt(
    q: str | None, owner: str | None, sharing_class: str | None, source_kind: str | None
) -> Select[Any]:
    """The catalog, searched in titles, descriptions, keywords, codes and field names and descriptions."""
    stmt = select(Dataset)
    if q:
        like = f"%{q.strip().lower()}%"
        in_fields = select(DatasetField.dataset_id).where(
            or_(func.lower(DatasetField.name).like(like), func.lower(DatasetField.description).like(like),
                func.lower(DatasetField.description_en).like(like))
        )  # fmt: skip
        stmt = stmt.where(
            or_(
                func.lower(Dataset.code).like(like),
                func.lower(Dataset.title_zh).like(like),
                func.lower(Dataset.title_en).like(like),
                func.lower(Dataset.description).like(like),
                func.lower(cast(Dataset.keywords, String)).like(like),
                Dataset.id.in_(in_fields),
            )
        )
    if owner:
        stmt = stmt.where(Dataset.owner_department == owner)
    if sharing_class:
        stmt = stmt.where(Dataset.sharing_class == sharing_class)
    if source_kind:
        stmt = stmt.where(Dataset.source_kind == source_kind)
    return stmt


def field_public(f: DatasetField) -> dict[str, Any]:
    return {
        "name": f.name,
        "type": f.type,
        "description": f.description,
        "description_en": f.description_en,
        "protected": f.protected,
        "mask": f.mask,
    }


def dataset_summary(d: Dataset, fields: list[DatasetField]) -> dict[str, Any]:
    keys = ("code", "title_zh", "title_en", "owner_department", "source_kind", "update_frequency",
            "sharing_class", "keywords")  # fmt: skip
    return {
        **{k: getattr(d, k) for k in keys},
        "field_count": len(fields),
        "protected_fields": sum(f.protected for f in fields),
    }


def dataset_public(d: Dataset, fields: list[DatasetField]) -> dict[str, Any]:
    keys = ("code", "title_zh", "title_en", "description", "owner_department", "source_kind",
            "update_frequency", "sharing_class", "keywords", "published_by", "published_at", "updated_at",
            "version")  # fmt: skip
    return {**{k: getattr(d, k) for k in keys}, "fields": [field_public(f) for f in fields]}


def grant_public(
    session: Session, grant: Grant, now: datetime, dataset_code: str | None = None
) -> dict[str, Any]:
    code = dataset_code or session.scalar(select(Dataset.code).where(Dataset.id == grant.dataset_id))
    prefix = (
        session.scalar(select(ApiKey.prefix).where(ApiKey.id == grant.api_key_id))
        if grant.api_key_id
        else None
    )
    keys = ("id", "consumer_department", "purpose", "fields", "rows", "granted_by", "granted_at", "expires_at",
            "revoked_at", "revoked_by")  # fmt: skip
    return {
        **{k: getattr(grant, k) for k in keys},
        "dataset": code,
        "active": grant_active(grant, now),
        "api_key_prefix": prefix,
    }


def request_public(session: Session, req: AccessRequest, now: datetime) -> dict[str, Any]:
    code = session.scalar(select(Dataset.code).where(Dataset.id == req.dataset_id))
    grant = session.scalar(select(Grant).where(Grant.request_id == req.id))
    keys = ("id", "consumer_department", "requested_by", "purpose", "fields", "rows", "state", "decided_by",
            "decided_at", "reason", "created_at", "version")  # fmt: skip
    return {
        **{k: getattr(req, k) for k in keys},
        "dataset": code,
        "grant": grant_public(session, grant, now, code) if grant else None,
    }


def requests_stmt(principal: Principal, role: str, state: str | None, dataset: str | None) -> Select[Any]:
    """``role`` ``mine``: what my department asked for; ``to_decide``: asked of my department's datasets
    (an administrator sees all of them)."""
    stmt = select(AccessRequest)
    if role == "mine":
        stmt = stmt.where(AccessRequest.consumer_department == (principal.department_code or ""))
    elif principal.role not in ("admin", "system"):
        owned = select(Dataset.id).where(Dataset.owner_department == (principal.department_code or ""))
        stmt = stmt.where(AccessRequest.dataset_id.in_(owned))
    if state:
        stmt = stmt.where(AccessRequest.state == state)
    if dataset:
        stmt = stmt.where(AccessRequest.dataset_id.in_(select(Dataset.id).where(Dataset.code == dataset)))
    return stmt


def grants_stmt(principal: Principal, role: str, dataset: str | None) -> Select[Any]:
    stmt = select(Grant)
    if role == "mine":
        stmt = stmt.where(Grant.consumer_department == (principal.department_code or ""))
    elif principal.role not in ("admin", "system"):
        owned = select(Dataset.id).where(Dataset.owner_department == (principal.department_code or ""))
        stmt = stmt.where(Grant.dataset_id.in_(owned))
    if dataset:
        stmt = stmt.where(Grant.dataset_id.in_(select(Dataset.id).where(Dataset.code == dataset)))
    return stmt


def grant_for(
    session: Session, principal: Principal, dataset: Dataset, now: datetime, grant_id: int | None
) -> Grant:
    """The active grant through which ``principal`` reads ``dataset``: a grant's own key reads that grant
    only; staff read their department's grants (the newest, unless they name one)."""
    stmt = select(Grant).where(Grant.dataset_id == dataset.id)
    if principal.kind == "api_key":
        stmt = stmt.where(Grant.api_key_id == principal.id)
    else:
        stmt = stmt.where(Grant.consumer_department == (principal.department_code or ""))
    if grant_id is not None:
        stmt = stmt.where(Grant.id == grant_id)
    mine = list(session.scalars(stmt.order_by(Grant.granted_at.desc(), Grant.id.desc())))
    for grant in mine:
        if grant_active(grant, now):
            return grant
    if grant_id is not None and mine:  # the grant named is theirs, but revoked or expired: say so
        raise UrbanBrainError("datahub.grant_ended", grant=grant_id)
    raise UrbanBrainError("datahub.no_grant", dataset=dataset.code)


def usage(session: Session, dataset: str | None, consumer: str | None) -> list[dict[str, Any]]:
    """Records shared per dataset and consumer department, all time, with the last day of use."""
    stmt = (
        select(
            Dataset.code,
            Usage.consumer_department,
            func.sum(Usage.accesses),
            func.sum(Usage.records),
            func.max(Usage.day),
        )
        .join(Dataset, Dataset.id == Usage.dataset_id)
        .group_by(Dataset.code, Usage.consumer_department)
        .order_by(func.sum(Usage.records).desc(), Dataset.code)
    )
    if dataset:
        stmt = stmt.where(Dataset.code == dataset)
    if consumer:
        stmt = stmt.where(Usage.consumer_department == consumer)
    return [
        {"dataset": code, "consumer_department": who, "accesses": int(a or 0), "records": int(r or 0),
         "last_day": str(day) if day else None}
        for code, who, a, r, day in session.execute(stmt)
    ]  # fmt: skip


def check_can_see_request(session: Session, principal: Principal, req: AccessRequest) -> None:
    """A request is seen by the department that asked, the owner's department and administrators."""
    if principal.role in ("admin", "system") or principal.department_code == req.consumer_department:
        return
    owner = session.scalar(select(Dataset.owner_department).where(Dataset.id == req.dataset_id))
    if principal.department_code != owner:
        raise UrbanBrainError("not_found", what=f"data request {req.id}")


def access_log_stmt(principal: Principal, dataset: str | None, grant_id: int | None) -> Select[Any]:
    """Every read, export and refusal of data (X-Road's exchange log), from the hash-chained audit: of the
    datasets my department owns, or all of them for an administrator."""
    datasets = select(Dataset.id, Dataset.code)
    if principal.role not in ("admin", "system"):
        datasets = datasets.where(Dataset.owner_department == (principal.department_code or ""))
    if dataset:
        datasets = datasets.where(Dataset.code == dataset)
    ids = datasets.with_only_columns(Dataset.id)
    grants = select(cast(Grant.id, String)).where(Grant.dataset_id.in_(ids))
    if grant_id is not None:
        grants = grants.where(Grant.id == grant_id)
    about = (AuditEntry.entity_type == "datahub_grant") & AuditEntry.entity_id.in_(grants)
    if grant_id is None:
        codes = datasets.with_only_columns(Dataset.code)
        about = about | ((AuditEntry.entity_type == "datahub_dataset") & AuditEntry.entity_id.in_(codes))
    return select(AuditEntry).where(AuditEntry.action.like("datahub.data.%"), about)


def access_public(entry: AuditEntry) -> dict[str, Any]:
    after = entry.after or {}
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "dataset": after.get("dataset"),
        "grant": after.get("grant"),
        "consumer_department": after.get("consumer_department"),
        "purpose": after.get("purpose"),
        "rows": after.get("rows"),
        "refused": after.get("refused"),
        "detail": {k: v for k, v in after.items() if k in ("filters", "sort", "format", "page", "page_size")},
    }
