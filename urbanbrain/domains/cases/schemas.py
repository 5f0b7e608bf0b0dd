"""Case request and response shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["app", "qr", "hotline", "grid", "sensor", "opinion", "operator"]
RequestKind = Literal["consultation", "complaint", "help", "report", "suggestion"]
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
    answer_code: str | None = Field(
        default=None, max_length=40, description="answer: the knowledge-base answer given, if one was."
    )


class FeedbackCreate(_Strict):
    satisfaction: int = Field(ge=1, le=5, description="1 (not fixed) to 5 (very satisfied).")
    comment: str | None = Field(default=None, max_length=1000)


class NoteCreate(_Strict):
    note: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    public: bool = True


Names = dict[str, str]  # {"zh-CN": ..., "en": ...}


class MinorClassPublic(BaseModel):
    code: str
    name: Names
    department: str = Field(description="The department a case of this class is routed to by default.")
    priority: int
    accept_minutes: int = Field(description="Time limit to accept a dispatched case.")
    resolve_hours: float = Field(description="Time limit to resolve it.")
    calendar: Literal["calendar", "working"] = Field(description="Whether the limits count working time.")


class MajorClassPublic(BaseModel):
    code: str
    kind: str = Field(description="component (a broken thing) or event (something that happened).")
    name: Names
    minor: list[MinorClassPublic]


class ClassifyPublic(BaseModel):
    label: str = Field(description="The minor class the classifier chose (the best of its department).")
    confidence: float
    department: str = Field(description="The department it would go to (street_office: the place's office).")
    department_confidence: float
    top: list[tuple[str, float]] = Field(description="The best classes with their confidence, best first.")
    threshold: float = Field(description="Below this department confidence intake sends the case to triage.")
    confident: bool
    kind: RequestKind
    emergency: bool = Field(description="Something happening now that needs 110/119/120.")
    call_now: str | None = Field(description="For an emergency: the number to call now.")
    answer_code: str | None = Field(
        description="A consultation's knowledge-base answer, when a good one exists."
    )


class ClassifierDay(BaseModel):
    day: date
    classified: int = Field(description="Reports the classifier read (no class given).")
    sent_alone: int = Field(description="Of those, dispatched or answered without a person.")
    corrected: int = Field(
        description="Of those, later returned by the department, or reassigned or reclassified by a person."
    )
    triaged: int = Field(description="Of those, held for a dispatcher (unsure).")
    accuracy: float | None = Field(description="Share of what was sent alone that nobody corrected.")


class ClassifierVersionPublic(BaseModel):
    version: str
    created_at: datetime
    created_by: str | None
    n_corrections: int = Field(description="Dispatchers' decisions it learned from.")
    scores: dict[str, Any] = Field(description="Its scores and the then active version's, on the held set.")
    promoted: bool
    active: bool
    reason: str | None


class ClassifierStatus(BaseModel):
    version: str = Field(description="The version in service ('shipped…': the one in the package).")
    threshold: float
    out_of_writer: dict[str, Any] | None = Field(
        description="Its calibration on writers it did not learn from."
    )
    daily: list[ClassifierDay]
    versions: list[ClassifierVersionPublic]


class HistoryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor: str
    transition: str
    from_state: str | None
    to_state: str
    department_code: str | None
    note: str | None
    public: bool = Field(description="Shown to the citizen (Open311 updates) or kept inside the government.")
    photos: list[int] = Field(default=[], description="Ids of the photos attached to this step.")


class PendingRequest(BaseModel):
    """A suspension or extension asked for, waiting for the centre's approval."""

    kind: Literal["suspend", "extend"]
    note: str | None
    hours: float | None = Field(description="extend: how many more hours.")
    by: str
    at: datetime


class AnswerPublic(BaseModel):
    code: str
    department: str
    title: str
    answer: str
    answer_en: str


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
    request_kind: RequestKind | None = Field(
        description="咨询/投诉/求助/举报/建议, as classified or corrected."
    )
    emergency: bool = Field(description="Needs 110/119/120 now: the reporter was told, the centre flagged.")
    answer: AnswerPublic | None = Field(description="The knowledge-base answer a consultation was given.")
    located_by: str | None = Field(description="position, facility, or address (placed from words).")
    duplicate_candidates: list[str] = Field(description="Numbers of open cases this one may duplicate.")
    merged_into: str | None = Field(description="The number of the case this one was merged into.")
    escalation_level: int
    pending_request: PendingRequest | None
    reported_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    accept_due_at: datetime | None
    resolve_due_at: datetime | None
    resolve_warn_at: datetime | None = Field(description="When the SLA warning (80% of the time) falls due.")
    sla: Literal["ok", "warning", "breached"] | None = Field(
        description="Where the time to resolve stands now, for a case being worked; null otherwise."
    )
    overdue: bool
    verification_passed: bool | None
    satisfaction: int | None
    version: int


class CaseLinkPublic(BaseModel):
    kind: Literal["duplicate_of", "has_duplicate"]
    number: str | None = Field(description="The linked case's number.")


class CaseDetail(CasePublic):
    """A case with its history, links and what may be done next."""

    history: list[HistoryPublic]
    links: list[CaseLinkPublic]
    allowed_transitions: list[str] = Field(description="The actions its state allows (your role may not).")


class AreaCounts(BaseModel):
    street_code: str | None
    open: int
    overdue: int
    closed: int


class StatisticsCounts(BaseModel):
    dispatched: int
    resolved: int
    on_time: int = Field(description="Resolved before the time limit.")
    closed: int
    breached: int = Field(description="Past the time limit at some point.")


class StatisticsGroup(StatisticsCounts):
    key: str | None = Field(description="The department, class or street code.")
    on_time_rate: float | None = Field(description="on_time / resolved; null when nothing was resolved.")


class VerificationCounts(BaseModel):
    passed: int
    failed: int
    pass_rate: float | None


class CaseStatistics(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    group_by: Literal["department", "category", "street"]
    groups: list[StatisticsGroup]
    totals: StatisticsCounts
    on_time_rate: float | None
    verification: VerificationCounts = Field(description="Verifiers' checks made in the period.")


class FeedbackCase(BaseModel):
    """What a reporter asked for feedback sees: their case and what the department said it did."""

    number: str | None
    title: str
    state: str
    state_name: dict[str, str]
    reported_at: datetime
    resolved_at: datetime | None
    resolution: str | None = Field(description="The department's note when it resolved the case.")


class FeedbackPublic(BaseModel):
    state: str
    verification_passed: bool | None
    satisfaction: int | None


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


class CalendarDayPublic(BaseModel):
    day: date
    kind: Literal["holiday", "workday"]
    name: str | None


class CalendarPublic(BaseModel):
    work_periods: str = Field(description="Working hours, local time, e.g. 09:00-12:00,14:00-18:00.")
    work_weekdays: str = Field(description="Working weekdays, 1 = Monday, e.g. 1-5.")
    utc_offset_hours: int
    days: list[CalendarDayPublic] = Field(description="Holidays and worked weekend days (调休).")


class CalendarDayCreate(_Strict):
    day: date | None = Field(default=None, description="Optional; must equal the day in the path.")
    kind: Literal["holiday", "workday"]
    name: str | None = None


class CaseMap(BaseModel):
    """Open cases as the map draws them: one short row each (see ``columns``)."""

    as_of: datetime
    columns: list[str]
    rows: list[list[Any]] = Field(
        description="[lon, lat, number, category, state, sla (ok|warning|breached), department]"
    )
