"""Fire-safety request and response shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from urbanbrain.domains.sensing.schemas import Level

MAX_TEXT = 2000
MAX_HAZARDS = 50  # one visit; more means the building needs a different kind of action


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HazardCreate(_Strict):
    """A hazard found in an inspection; its deadline comes from its type."""

    type_code: str = Field(min_length=1, max_length=32, description="A code from /hazard-types.")
    description: str = Field(min_length=1, max_length=MAX_TEXT)
    severity: Literal["general", "major"] = "general"


class InspectionCreate(_Strict):
    """A routine inspection of a building or venue, with the hazards it found (none: it passed)."""

    target_kind: Literal["building", "venue"]
    target_code: str = Field(min_length=1, max_length=40, description="The registry code.")
    note: str | None = Field(default=None, max_length=MAX_TEXT)
    hazards: list[HazardCreate] = Field(default_factory=list, max_length=MAX_HAZARDS)


class RectificationCreate(_Strict):
    note: str = Field(min_length=1, max_length=MAX_TEXT, description="What was done to fix it.")
    version: int | None = Field(default=None, description="The version you read; a stale one is refused.")


class ReinspectionCreate(_Strict):
    passed: bool
    note: str | None = Field(
        default=None, max_length=MAX_TEXT, description="Required when it failed: what is still wrong."
    )
    deadline_days: int | None = Field(
        default=None, ge=1, le=90, description="When it failed: days for the next try (default: the type's)."
    )
    version: int | None = None


class EscalationCreate(_Strict):
    note: str | None = Field(default=None, max_length=MAX_TEXT)
    version: int | None = None


class Named(BaseModel):
    code: str
    name: dict[str, str]


class HazardTypePublic(Named):
    deadline_days: int
    case_category: str


class HazardHistoryPublic(BaseModel):
    at: datetime
    actor: str
    transition: str
    from_state: str | None
    to_state: str
    deadline: datetime | None
    note: str | None
    inspection_code: str | None
    photos: list[int] = Field(
        default=[], description="Ids of the photos of this step (GET /hazards/{ref}/photos/{id})."
    )


class HazardPublic(BaseModel):
    id: int
    code: str
    inspection_id: int
    target_kind: str
    target_code: str
    building_code: str | None
    venue_code: str | None
    street_code: str | None
    community_code: str | None
    lon: float
    lat: float
    address: str | None
    type: Named
    description: str
    severity: str
    severity_name: dict[str, str]
    state: str
    state_name: dict[str, str]
    state_group: str
    found_at: datetime
    deadline: datetime
    deadline_date: date = Field(description="The last day allowed, in the district's local time.")
    overdue: bool
    overdue_at: datetime | None
    rectified_at: datetime | None
    closed_at: datetime | None
    failures: int
    case_number: str | None
    escalated_at: datetime | None
    version: int


class HazardDetail(HazardPublic):
    inspection_code: str
    history: list[HazardHistoryPublic]
    allowed_actions: list[str]


class InspectionPublic(BaseModel):
    id: int
    code: str
    target_kind: str
    target_code: str
    building_code: str | None
    street_code: str | None
    community_code: str | None
    inspector: str
    inspected_at: datetime
    kind: str
    result: str
    hazard_code: str | None = Field(description="A re-inspection: the hazard it checked.")
    note: str | None
    hazards: list[HazardPublic] = Field(description="The hazards this inspection found.")


class BuildingFireStatus(BaseModel):
    code: str
    name: str
    address: str
    floors: int
    use: str
    devices: int = Field(description="IoT fire devices in the building.")
    open_alarms: int
    level: Level | None = Field(description="The highest warning level among the open alarms.")
    open_hazards: int = Field(description="Hazards found by inspections and not closed yet.")
    status: Literal["red", "orange", "yellow", "blue", "hazard", "monitored", "unmonitored"] = Field(
        description="What to colour the building by: the first that holds, in this order."
    )


class BuildingGeometry(BaseModel):
    """A GeoJSON geometry: the building's footprint, or its point when it has none."""

    type: Literal["Point", "Polygon"]
    coordinates: list[Any] = Field(description="GeoJSON coordinates (longitude, latitude), WGS 84.")


class BuildingFeature(BaseModel):
    type: Literal["Feature"]
    id: str = Field(description="The building's code.")
    geometry: BuildingGeometry
    properties: BuildingFireStatus


class FireMapSummary(BaseModel):
    village_code: str
    village_name: dict[str, str]
    buildings: int
    by_status: dict[str, int] = Field(description="Buildings per status, most urgent first.")


class FireMap(BaseModel):
    """A GeoJSON FeatureCollection of a village's buildings."""

    type: Literal["FeatureCollection"]
    properties: FireMapSummary
    features: list[BuildingFeature]


class HazardCounts(BaseModel):
    found: int
    major: int
    closed: int = Field(description="Rectified and passed on re-inspection (销号).")
    closed_on_time: int = Field(description="Closed, and never open past a deadline.")
    open: int
    rectified: int = Field(description="Waiting for re-inspection.")
    overdue: int = Field(description="Open past the deadline now.")
    failures: int = Field(description="Failed re-inspections.")
    escalated: int = Field(description="Filed as cases.")
    on_time_rate: float | None = Field(description="closed_on_time / closed; null when none closed.")


class TypeCounts(HazardCounts):
    type_code: str
    name: dict[str, str] | None = Field(description="Null for a type no longer in the table.")


class CommunityCounts(HazardCounts):
    community_code: str = Field(description="The community, or - when the hazard had none.")
    inspections: int


class InspectionCounts(BaseModel):
    total: int
    routine: int
    re_inspection: int
    passed: int
    hazards_found: int


class FireStatistics(BaseModel):
    """Inspections made and hazards found in [from, to), as their state stands now."""

    from_: datetime = Field(alias="from")
    to: datetime
    community_code: str | None
    inspections: InspectionCounts
    hazards: HazardCounts
    by_type: list[TypeCounts]
    by_community: list[CommunityCounts]
