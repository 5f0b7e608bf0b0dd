"""Linkage request and response shapes. A level is written blue/yellow/orange/red, or as the national
emergency response level IV/III/II/I (Ⅳ级 一般 ... Ⅰ级 特别重大), which reads as the same colour."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_TEXT = 2000
RESPONSE_LEVELS = {"IV": "blue", "III": "yellow", "II": "orange", "I": "red"}


def _level(value: Any) -> Any:
    if isinstance(value, str) and value.strip().upper() in RESPONSE_LEVELS:
        return RESPONSE_LEVELS[value.strip().upper()]
    return value


Level = Annotated[
    Literal["blue", "yellow", "orange", "red"],
    BeforeValidator(_level),
    Field(description="blue | yellow | orange | red, or the response level IV | III | II | I."),
]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
DepartmentRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^(@street|[a-z0-9_-]+)$",
        description="A department code, or @street: the street office of the incident's area.",
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Words(_Strict):
    zh: str = Field(min_length=1, max_length=MAX_TEXT)
    en: str = Field(min_length=1, max_length=MAX_TEXT)


class PlanTask(_Strict):
    """One department's task: it belongs to the plan at ``level`` and every level above."""

    key: Code
    department: DepartmentRef
    level: Level
    ack_minutes: int = Field(ge=1, le=24 * 60, description="Minutes to acknowledge it.")
    text: Words


class PlanBody(_Strict):
    """A plan (预案) for one incident type, its code (``PUT /plans/{code}``)."""

    name: Words
    auto_start_level: Level | None = Field(
        default=None,
        description="Start automatically on an alarm of type '<code>.*' at this level or above; null: never.",
    )
    radius_m: float = Field(default=300, gt=0, le=50_000, description="The area's radius in the CAP export.")
    instruction: Words | None = Field(default=None, description="What the public should do (CAP).")
    tasks: list[PlanTask] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _keys_unique(self) -> PlanBody:
        seen = [(t.key, t.department) for t in self.tasks]
        if len(seen) != len(set(seen)):
            raise ValueError("each (key, department) pair may appear once")
        return self


class PlanPut(PlanBody):
    version: int | None = Field(default=None, description="The version you read; a stale one is refused.")


class PlanPublic(PlanBody):
    model_config = ConfigDict(extra="ignore")
    code: str
    edited: bool = Field(description="False: the shipped plan as is; true: an admin's version.")
    version: int = Field(description="0 for a shipped plan nobody has edited.")
    levels: dict[str, list[str]] = Field(description="Level -> the task keys of the plan at that level.")


class IncidentCreate(_Strict):
    """Start a plan: every department in it gets its task at once."""

    incident_type: Code = Field(description="The plan's code, e.g. crowd.")
    level: Level
    title: str = Field(min_length=1, max_length=200)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    zone_code: str | None = Field(default=None, min_length=1, max_length=64)
    area_code: str | None = Field(
        default=None, min_length=1, max_length=64, description="A street or community code."
    )
    alarm_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    polygon: list[tuple[float, float]] | None = Field(
        default=None, min_length=3, max_length=500, description="[[lon, lat], ...]: the affected area."
    )
    note: str | None = Field(default=None, max_length=MAX_TEXT)

    @model_validator(mode="after")
    def _polygon_in_range(self) -> IncidentCreate:
        for lon, lat in self.polygon or ():
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError("polygon points must be [lon, lat] within -180..180 and -90..90")
        return self


class LevelChange(_Strict):
    level: Level
    note: str | None = Field(default=None, max_length=MAX_TEXT)
    version: int | None = None


class StandDownCreate(_Strict):
    note: str = Field(min_length=1, max_length=MAX_TEXT, description="The final note: how it ended.")
    version: int | None = None


class AttachmentCreate(_Strict):
    kind: Literal["what_if", "report", "other"]
    title: str = Field(min_length=1, max_length=200)
    data: dict[str, Any]


class TaskStep(_Strict):
    note: str | None = Field(default=None, max_length=MAX_TEXT)
    version: int | None = None


class NoteCreate(_Strict):
    note: str = Field(min_length=1, max_length=MAX_TEXT, description="What has been done, what is needed.")
    version: int | None = None


class TaskPublic(BaseModel):
    id: int
    incident_id: int
    incident_code: str
    key: str
    level: str
    department_code: str
    text: dict[str, str]
    state: str
    state_name: dict[str, str]
    state_group: Literal["open", "closed"]
    assigned_at: datetime
    ack_deadline: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    done_at: datetime | None
    overdue: bool = Field(description="Not acknowledged by its deadline.")
    overdue_at: datetime | None
    version: int


class TimelinePublic(BaseModel):
    at: datetime
    actor: str
    kind: str
    task_id: int | None
    department_code: str | None
    level: str | None
    attachment_id: int | None
    note: str | None


class AttachmentPublic(BaseModel):
    id: int
    kind: str
    title: str
    data: dict[str, Any]
    attached_at: datetime
    attached_by: str


class IncidentPublic(BaseModel):
    id: int
    code: str
    incident_type: str
    level: str
    response_level: str = Field(description="IV | III | II | I")
    first_level: str
    title: str
    state: str
    state_name: dict[str, str]
    state_group: Literal["open", "closed"]
    lon: float
    lat: float
    radius_m: float
    polygon: list[list[float]] | None
    zone_code: str | None
    area_code: str | None
    alarm_id: int | None
    started_at: datetime
    started_by: str
    stood_down_at: datetime | None
    tasks_total: int
    tasks_open: int
    tasks_overdue: int
    version: int


class IncidentDetail(IncidentPublic):
    tasks: list[TaskPublic]
    timeline: list[TimelinePublic]
    attachments: list[AttachmentPublic]
    allowed_actions: list[str]
