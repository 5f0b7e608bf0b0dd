"""Case request and response shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["app", "qr", "hotline", "grid", "sensor", "opinion", "operator"]
MAX_DESCRIPTION = 4000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CaseReport(_Strict):
    """A new report from any channel."""

    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    title: str | None = Field(default=None, max_length=200)
    source: Source = "operator"
    category_code: str | None = Field(
        default=None, description="Minor class if known; else it is classified."
    )
    lon: float | None = None
    lat: float | None = None
    address: str | None = Field(default=None, max_length=300)
    facility_code: str | None = Field(default=None, description="The facility's public QR code, if any.")
    media_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    reporter_name: str | None = Field(default=None, max_length=100)
    reporter_contact: str | None = Field(
        default=None, max_length=100, description="Phone or e-mail; protected."
    )


class TransitionRequest(_Strict):
    note: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    version: int | None = Field(default=None, description="The version you read; a stale one is refused.")
    department_code: str | None = None
    category_code: str | None = None
    target_number: str | None = Field(default=None, description="merge: the case this one duplicates.")
    hours: float | None = Field(default=None, gt=0, le=24 * 90, description="extension: how many more hours.")
    satisfaction: int | None = Field(default=None, ge=1, le=5)


class FeedbackCreate(_Strict):
    satisfaction: int = Field(ge=1, le=5, description="1 (not fixed) to 5 (very satisfied).")
    comment: str | None = Field(default=None, max_length=1000)


class NoteCreate(_Strict):
    note: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    public: bool = True


class HistoryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: datetime
    actor: str
    transition: str
    from_state: str | None
    to_state: str
    department_code: str | None
    note: str | None
    photos: list[int] = []


class CasePublic(BaseModel):
    id: int
    number: str | None
    token: str
    state: str
    state_name: dict[str, str]
    state_group: str
    source: str
    category_code: str | None
    category_name: dict[str, str] | None
    priority: int
    title: str
    description: str
    lon: float | None
    lat: float | None
    address: str | None
    street_code: str | None
    community_code: str | None
    grid_code: str | None
    facility_code: str | None
    reporter_name: str | None
    reporter_contact: str | None = Field(description="Masked unless you may read protected fields.")
    department_code: str | None
    classified_as: str | None
    classification_confidence: float | None
    triage_reason: str | None
    duplicate_candidates: list[str]
    merged_into: str | None
    escalation_level: int
    pending_request: dict[str, object] | None
    reported_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    accept_due_at: datetime | None
    resolve_due_at: datetime | None
    overdue: bool
    verification_passed: bool | None
    satisfaction: int | None
    version: int


class RoutingRuleCreate(_Strict):
    rank: int = Field(default=50, ge=0, le=10000)
    category_code: str | None = None
    area_code: str | None = None
    facility_owner: bool = False
    department_code: str | None = Field(
        default=None,
        description="A department code, or @street_office / @community_station of the case's area.",
    )
    note: str | None = None


class RoutingRulePublic(RoutingRuleCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
    id: int
    active: bool


class CalendarDayCreate(_Strict):
    day: date | None = Field(default=None, description="Optional; must equal the day in the path.")
    kind: Literal["holiday", "workday"]
    name: str | None = None


class SubscriptionCreate(_Strict):
    channel: Literal["webhook", "email", "sms"] = "webhook"
    target: str = Field(min_length=3, max_length=500, description="URL, e-mail address or phone number.")
    events: list[str] = Field(default_factory=lambda: ["cases.case.>"])
    department_code: str | None = None


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    channel: str
    target: str
    events: list[str]
    department_code: str | None
    active: bool
    secret: str | None = Field(default=None, description="Webhooks: the signing secret, shown once.")
