"""``/api/v1/datahub``: the catalog, requests and the owners' decisions, grants and their keys, and the
granted data itself, as pages of rows or a whole export, every access audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from urbanbrain.api.deps import PlatformDep, SessionDep, WaitingPrincipal, require
from urbanbrain.api.paging import page_query
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.models import AuditEntry
from urbanbrain.core.paging import Page, PageRequest, paged
from urbanbrain.domains.datahub import actions, delivery, queries
from urbanbrain.domains.datahub import schemas as s
from urbanbrain.domains.datahub.models import AccessRequest, Dataset, Grant

router = APIRouter(tags=["datahub"])
Reader = Annotated[Principal, require("datahub.read")]
Publisher = Annotated[Principal, require("datahub.datasets.publish")]
Requester = Annotated[Principal, require("datahub.requests.submit")]
Decider = Annotated[Principal, require("datahub.requests.decide")]
UsageReader = Annotated[Principal, require("datahub.usage.read")]
Paging = Annotated[PageRequest, Depends(page_query(50))]
Code = Annotated[
    str, Path(pattern=s.CODE_PATTERN, description="The dataset's code, e.g. registry-buildings.")
]
Filters = Annotated[
    list[str],
    Query(
        max_length=20,
        description="field:op:value, op one of eq, ne, gt, gte, lt, lte, in (values separated by |); "
        "only fields of your grant, compared as you see them (masked fields by their masked value).",
    ),
]
Sort = Annotated[list[str], Query(max_length=5, description="Fields of your grant; -field sorts descending.")]
GrantParam = Annotated[int | None, Query(ge=1, description="Which of your grants to read through.")]


# -- the catalog -----------------------------------------------------------------------------------------------


@router.get("/datasets", response_model=Page[s.DatasetSummary])
def list_datasets(
    session: SessionDep,
    principal: Reader,
    page: Paging,
    q: Annotated[
        str | None, Query(max_length=100, description="Words in titles, keywords or fields.")
    ] = None,
    owner: Annotated[str | None, Query(max_length=64, description="The owning department's code.")] = None,
    sharing_class: Annotated[Literal["unconditional", "conditional", "not_shared"] | None, Query()] = None,
    source_kind: Annotated[
        Literal["registry", "cases", "alarms", "telemetry", "upload"] | None, Query()
    ] = None,
) -> dict[str, Any]:
    """Browse and search the catalog (数据资源目录)."""
    p = paged(session, queries.datasets_stmt(q, owner, sharing_class, source_kind), page, Dataset.code)
    fields = queries.fields_of(session, [d.id for d in p.rows])
    return p.map(lambda d: queries.dataset_summary(d, fields[d.id]))


@router.get("/datasets/{code}", response_model=s.DatasetPublic)
def get_dataset(code: Code, session: SessionDep, principal: Reader) -> dict[str, Any]:
    """A dataset with its schema: each field's name, type, description and whether it is protected."""
    d = queries.get_dataset(session, code)
    return queries.dataset_public(d, queries.fields_of(session, [d.id])[d.id])


@router.post("/datasets", response_model=s.DatasetPublic, status_code=201)
def publish_dataset(
    body: s.DatasetPublish,
    session: SessionDep,
    platform: PlatformDep,
    principal: Publisher,
    version: Annotated[
        int | None, Query(ge=1, description="The version you read, to change a dataset.")
    ] = None,
) -> dict[str, Any]:
    """Publish a dataset of your department, or change one (the owner's stewards)."""
    d = actions.do_publish_dataset(session, platform, principal, body, version)
    return queries.dataset_public(d, queries.fields_of(session, [d.id])[d.id])


@router.post("/datasets/{code}/upload", response_model=s.UploadPublic)
async def upload_rows(
    code: Code, request: Request, session: SessionDep, platform: PlatformDep, principal: Publisher
) -> dict[str, Any]:
    """Replace an uploaded dataset's rows with a file: CSV (``text/csv``, a header row) or Parquet."""
    data = await delivery.read_body(request)
    rows = actions.do_upload_rows(
        session, platform, principal, code, data, request.headers.get("content-type", "")
    )
    return {"dataset": code, "rows": rows}


# -- requests and decisions -------------------------------------------------------------------------------------


@router.post("/requests", response_model=s.RequestPublic, status_code=201)
def submit_request(
    body: s.AccessRequestCreate, session: SessionDep, platform: PlatformDep, principal: Requester
) -> dict[str, Any]:
    """Ask for a dataset for your department: which fields, what for, optionally which rows. An
    unconditionally shared dataset is granted at once; a conditional one waits for its owner."""
    req = actions.do_submit_request(session, platform, principal, body)
    return queries.request_public(session, req, platform.clock.now())


@router.get("/requests", response_model=Page[s.RequestPublic])
def list_requests(
    session: SessionDep,
    platform: PlatformDep,
    principal: Requester,
    page: Paging,
    role: Annotated[
        Literal["mine", "to_decide"],
        Query(description="mine: asked by my department; to_decide: asked of my department's datasets."),
    ] = "mine",  # fmt: skip
    state: Annotated[Literal["pending", "approved", "refused"] | None, Query()] = None,
    dataset: Annotated[str | None, Query(max_length=60)] = None,
) -> dict[str, Any]:
    stmt = queries.requests_stmt(principal, role, state, dataset)
    p = paged(session, stmt, page, (AccessRequest.created_at.desc(), AccessRequest.id.desc()))
    now = platform.clock.now()
    return p.map(lambda r: queries.request_public(session, r, now))


@router.get("/requests/{request_id}", response_model=s.RequestPublic)
def get_request(
    request_id: Annotated[int, Path(ge=1, le=2**62)],
    session: SessionDep,
    platform: PlatformDep,
    principal: Requester,
) -> dict[str, Any]:
    req = queries.get_request(session, request_id)
    queries.check_can_see_request(session, principal, req)
    return queries.request_public(session, req, platform.clock.now())


@router.post("/requests/{request_id}/decision", response_model=s.RequestPublic)
def decide_request(
    request_id: Annotated[int, Path(ge=1, le=2**62)],
    body: s.Decision,
    session: SessionDep,
    platform: PlatformDep,
    principal: Decider,
    version: Annotated[int | None, Query(ge=1, description="The version you read.")] = None,
) -> dict[str, Any]:
    """Approve (all of it, some fields, some rows, until a date) or refuse; the owner's stewards only."""
    req = actions.do_decide_request(session, platform, principal, request_id, body, version)
    return queries.request_public(session, req, platform.clock.now())


# -- grants ------------------------------------------------------------------------------------------------------


@router.get("/grants", response_model=Page[s.GrantPublic])
def list_grants(
    session: SessionDep,
    platform: PlatformDep,
    principal: Requester,
    page: Paging,
    role: Annotated[
        Literal["mine", "given"],
        Query(description="mine: my department's grants; given: grants of my department's datasets."),
    ] = "mine",  # fmt: skip
    dataset: Annotated[str | None, Query(max_length=60)] = None,
) -> dict[str, Any]:
    p = paged(
        session,
        queries.grants_stmt(principal, role, dataset),
        page,
        (Grant.granted_at.desc(), Grant.id.desc()),
    )
    now = platform.clock.now()
    return p.map(lambda g: queries.grant_public(session, g, now))


@router.post("/grants/{grant_id}/revoke", response_model=s.GrantPublic)
def revoke_grant(
    grant_id: Annotated[int, Path(ge=1, le=2**62)],
    body: s.Revocation,
    session: SessionDep,
    platform: PlatformDep,
    principal: Decider,
) -> dict[str, Any]:
    """End a grant now (its key with it); the owner's stewards only."""
    grant = actions.do_revoke_grant(session, platform, principal, grant_id, body.reason)
    return queries.grant_public(session, grant, platform.clock.now())


@router.post("/grants/{grant_id}/key", response_model=s.GrantKey, status_code=201)
def issue_key(
    grant_id: Annotated[int, Path(ge=1, le=2**62)],
    session: SessionDep,
    platform: PlatformDep,
    principal: Requester,
) -> dict[str, Any]:
    """An API key for your department's systems that reads this grant only; shown once, a new one replaces
    the old."""
    grant, full, prefix = actions.do_issue_grant_key(session, platform, principal, grant_id)
    return {"grant": grant.id, "api_key": full, "prefix": prefix}


# -- the data ----------------------------------------------------------------------------------------------------


@router.get("/datasets/{code}/rows", response_model=s.RowsPage)
def read_rows(
    code: Code,
    platform: PlatformDep,
    principal: WaitingPrincipal,
    page: Paging,
    filter: Filters = [],  # noqa: B006 - FastAPI reads a list default as "none given"
    sort: Sort = [],  # noqa: B006
    grant: GrantParam = None,
) -> dict[str, Any]:
    """One page of the rows your grant allows, masked as it says. Every call is audited."""
    principal.require("datahub.data.read")
    return delivery.rows(platform, principal, code, filter, sort, page, grant)


EXPORTED = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/datasets/{code}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The grant's records in the format asked; X-Record-Count says how many.",
            "content": {
                "application/vnd.apache.parquet": EXPORTED,
                "text/csv": EXPORTED,
                "application/x-ndjson": EXPORTED,
            },
        }
    },
)
def export_rows(
    code: Code,
    platform: PlatformDep,
    principal: WaitingPrincipal,
    format: Annotated[Literal["parquet", "csv", "ndjson"], Query()] = "parquet",
    filter: Filters = [],  # noqa: B006
    sort: Sort = [],  # noqa: B006
    grant: GrantParam = None,
) -> StreamingResponse:
    """Everything your grant allows, as one Parquet, CSV or newline-delimited JSON file. Audited with the
    number of rows before the first byte leaves."""
    principal.require("datahub.data.read")
    return delivery.export(platform, principal, code, format, filter, sort, grant)


@router.get("/access-log", response_model=Page[s.AccessEntry])
def access_log(
    session: SessionDep,
    principal: UsageReader,
    page: Paging,
    dataset: Annotated[str | None, Query(max_length=60)] = None,
    grant: GrantParam = None,
) -> dict[str, Any]:
    """Every read, export and refused attempt on your department's datasets, newest first: who, through which
    grant, for what purpose, how many rows (from the hash-chained audit)."""
    p = paged(session, queries.access_log_stmt(principal, dataset, grant), page, AuditEntry.seq.desc())
    return p.map(queries.access_public)


@router.get("/usage", response_model=list[s.UsageRow])
def usage(
    session: SessionDep,
    principal: UsageReader,
    dataset: Annotated[str | None, Query(max_length=60)] = None,
    consumer: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """Records shared per dataset and consumer department (共享调用统计)."""
    return queries.usage(session, dataset, consumer)
