"""Request and response shapes of ``/api/v1/datahub``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SHARING_CLASSES = ("unconditional", "conditional", "not_shared")
FREQUENCIES = ("realtime", "hourly", "daily", "weekly", "monthly", "irregular")
SOURCE_KINDS = ("registry", "cases", "alarms", "telemetry", "upload")
FIELD_TYPES = ("string", "integer", "number", "boolean", "timestamp", "date")
MASKS = ("id_number", "phone", "name", "hidden")
OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "in")
CODE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{1,59}$"
FIELD_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FieldSpec(_Strict):
    """One field of an uploaded dataset's schema, or a description given to a lake field."""

    name: str = Field(pattern=FIELD_PATTERN)
    type: Literal["string", "integer", "number", "boolean", "timestamp", "date"] = "string"
    description: str = Field(default="", max_length=500)
    description_en: str = Field(default="", max_length=500)
    protected: bool = False
    mask: Literal["id_number", "phone", "name", "hidden"] | None = Field(
        default=None, description="How a protected field is masked; a protected field without one is hidden."
    )


class DatasetPublish(_Strict):
    """Publish a dataset (发布数据资源). Lake-backed kinds take their schema from the lake; an upload gives
    its fields, or they are read from the first file uploaded."""

    code: str = Field(pattern=CODE_PATTERN, description="e.g. registry-buildings.")
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    owner_department: str = Field(min_length=1, max_length=64, description="The owner's department code.")
    source_kind: Literal["registry", "cases", "alarms", "telemetry", "upload"]
    source: str | None = Field(
        default=None,
        max_length=80,
        description="The lake table (buildings, residents, venues, facilities, cases, alarms, readings); "
        "not given for uploads.",
    )
    update_frequency: Literal["realtime", "hourly", "daily", "weekly", "monthly", "irregular"]
    sharing_class: Literal["unconditional", "conditional", "not_shared"] = Field(
        description="unconditional (无条件共享): every department gets it on request, protected fields "
        "masked; conditional (有条件共享): the owner decides each request; not_shared (不予共享)."
    )
    keywords: list[str] = Field(default=[], max_length=20)
    fields: list[FieldSpec] | None = Field(default=None, max_length=300)


class FieldPublic(BaseModel):
    name: str
    type: str
    description: str
    description_en: str
    protected: bool
    mask: str | None


class DatasetPublic(BaseModel):
    code: str
    title_zh: str
    title_en: str
    description: str
    owner_department: str
    source_kind: str
    update_frequency: str
    sharing_class: str
    keywords: list[str]
    fields: list[FieldPublic]
    published_by: str
    published_at: datetime
    updated_at: datetime
    version: int


class DatasetSummary(BaseModel):
    code: str
    title_zh: str
    title_en: str
    owner_department: str
    source_kind: str
    update_frequency: str
    sharing_class: str
    keywords: list[str]
    field_count: int
    protected_fields: int


class RowCondition(_Strict):
    """One condition on rows: ``{"field": "street_code", "op": "eq", "value": "440304004"}``."""

    field: str = Field(pattern=FIELD_PATTERN)
    op: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in"] = "eq"
    value: Any

    @field_validator("value")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if not 0 < len(items) <= 1000 or not all(isinstance(v, str | int | float | bool) for v in items):
            raise ValueError("a value is a string, a number or a boolean, or a list of 1 to 1000 of them")
        return value

    @model_validator(mode="after")
    def _list_for_in(self) -> RowCondition:
        if (self.op == "in") != isinstance(self.value, list):
            raise ValueError("'in' takes a list of values; every other op takes one value")
        return self


class AccessRequestCreate(_Strict):
    dataset: str = Field(pattern=CODE_PATTERN)
    purpose: str = Field(min_length=4, max_length=2000, description="What the data is for (共享用途).")
    fields: list[str] = Field(min_length=1, max_length=300)
    rows: list[RowCondition] | None = Field(
        default=None, max_length=20, description="Only the rows that meet all these conditions."
    )


class Decision(_Strict):
    decision: Literal["approve", "refuse"]
    fields: list[str] | None = Field(
        default=None, max_length=300, description="Approve only these of the fields asked for."
    )
    clear: list[str] = Field(
        default=[],
        max_length=300,
        description="Protected fields to serve unmasked (only names and an upload's own fields can be).",
    )
    rows: list[RowCondition] | None = Field(
        default=None, max_length=20, description="Approve only the rows that meet these conditions."
    )
    expires_at: datetime | None = Field(
        default=None, description="When the grant ends (共享期限); a time without an offset is UTC."
    )
    reason: str | None = Field(default=None, max_length=2000)

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Revocation(_Strict):
    reason: str = Field(min_length=2, max_length=2000)


class GrantedField(BaseModel):
    name: str
    mode: str  # clear | masked


class GrantPublic(BaseModel):
    id: int
    dataset: str
    consumer_department: str
    purpose: str
    fields: list[GrantedField]
    rows: list[dict[str, Any]] | None
    granted_by: str
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    active: bool
    api_key_prefix: str | None = None


class RequestPublic(BaseModel):
    id: int
    dataset: str
    consumer_department: str
    requested_by: str
    purpose: str
    fields: list[str]
    rows: list[dict[str, Any]] | None
    state: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    created_at: datetime
    version: int
    grant: GrantPublic | None = None


class GrantKey(BaseModel):
    """A key for the consumer's systems, shown once."""

    grant: int
    api_key: str
    prefix: str


class RowsPage(BaseModel):
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    grant: int
    fields: list[GrantedField]


class UsageRow(BaseModel):
    dataset: str
    consumer_department: str
    accesses: int
    records: int
    last_day: str | None


class AccessEntry(BaseModel):
    """One access to shared data, as the audit chain holds it."""

    seq: int
    at: datetime
    actor: str
    action: str  # datahub.data.rows | datahub.data.export | datahub.data.refused
    dataset: str | None
    grant: int | None
    consumer_department: str | None
    purpose: str | None
    rows: int | None
    refused: str | None
    detail: dict[str, Any]


class UploadPublic(BaseModel):
    dataset: str
    rows: int
