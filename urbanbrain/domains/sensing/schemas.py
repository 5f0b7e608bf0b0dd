"""Sensing request and response shapes (readings themselves are parsed by ``wire``, not by pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CODE = r"^[A-Za-z0-9._:-]{1,64}$"
Level = Literal["blue", "yellow", "orange", "red"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Measurement(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    unit: str = Field(max_length=16)
    zh: str = Field(default="", max_length=50)
    en: str = Field(default="", max_length=50)
    min: float | None = Field(
        default=None, description="Measuring range (量程): lower end. Outside: a fault."
    )
    max: float | None = Field(
        default=None, description="Measuring range (量程): upper end. Outside: a fault."
    )

    @model_validator(mode="after")
    def _range(self) -> Measurement:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"{self.name}: min must be below max")
        return self


class DeviceTypeCreate(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    measurements: list[Measurement] = Field(min_length=1, max_length=64)


class DeviceTypePublic(DeviceTypeCreate):
    version: int


class DeviceCreate(_Strict):
    device_id: str = Field(pattern=CODE)
    type_code: str
    name: str = Field(default="", max_length=200)
    building_code: str | None = Field(default=None, max_length=40)
    venue_code: str | None = Field(default=None, max_length=40)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    owner_name: str | None = Field(default=None, max_length=100)
    owner_phone: str | None = Field(default=None, max_length=40, description="Protected.")
    key: str | None = Field(
        default=None,
        min_length=16,
        max_length=128,
        description="The device's own key; generated (and shown once) when left out.",
    )


GROUP_DOC = (
    "Devices whose readings are judged together elsewhere (a crowd zone's inputs: `crowd:<zone>`) share a "
    "partition group; scaled out, a device without a building is partitioned by it, so one worker sees them "
    "all. A building comes first."
)


class DeviceUpdate(_Strict):
    name: str | None = Field(default=None, max_length=200)
    building_code: str | None = Field(default=None, max_length=40)
    partition_group: str | None = Field(default=None, pattern=CODE, description=GROUP_DOC)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    owner_name: str | None = Field(default=None, max_length=100)
    owner_phone: str | None = Field(default=None, max_length=40)
    status: Literal["active", "disabled"] | None = None
    version: int | None = None


class LatestValue(BaseModel):
    value: float
    ts: datetime = Field(description="When the device measured it.")


class DevicePublic(BaseModel):
    device_id: str
    type_code: str
    name: str
    building_code: str | None
    venue_code: str | None
    partition_group: str | None = Field(description=GROUP_DOC)
    lon: float | None
    lat: float | None
    street_code: str | None
    community_code: str | None
    owner_name: str | None
    owner_phone: str | None = Field(description="Masked unless you may read protected fields.")
    status: str
    version: int
    latest: dict[str, LatestValue] = Field(
        default_factory=dict, description="The latest value of each measurement, by measurement name."
    )


class DeviceCreated(DevicePublic):
    key: str | None = Field(default=None, description="Shown once, when the platform made it.")


class DevicesImported(BaseModel):
    imported: int = Field(description="How many devices the CSV provisioned.")


class DeviceKey(BaseModel):
    device_id: str
    key: str = Field(description="The device's new key, shown once; the old one stops working.")


class Reading(BaseModel):
    ts: datetime
    value: float
    message_id: str | None = Field(description="The message that carried it.")


class MinuteRollup(BaseModel):
    minute: datetime
    count: int
    min: float
    max: float
    avg: float


class BuildingStatus(BaseModel):
    devices: int
    open_alarms: int
    level: Level | None = Field(description="The highest warning level among the open alarms.")


class RuleCreate(_Strict):
    """An alarm rule: ``spec`` as the engine reads it (kind, measurement, op, value, clear_value, minutes,
    count, parts, within_minutes, horizon_minutes, window_minutes, alarm_type, severity, level)."""

    code: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    spec: dict[str, Any]
    description: str = Field(default="", max_length=300)
    case_category: str | None = Field(default=None, description="The case class opened at a high level.")
    active: bool = True


class RulePublic(BaseModel):
    code: str
    spec: dict[str, Any]
    description: str
    case_category: str | None
    active: bool
    version: int


class AlarmPublic(BaseModel):
    id: int
    origin: str
    scope: str
    alarm_type: str
    rule_code: str
    severity: str
    level: str
    status: str
    building_code: str | None
    community_code: str | None
    lon: float | None
    lat: float | None
    measurement: str | None
    value: float | None
    detail: dict[str, Any]
    count: int
    event_at: datetime
    raised_at: datetime
    last_event_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_event_at: datetime | None
    cleared_at: datetime | None
    cleared_by: str | None
    case_number: str | None
    version: int


class AlarmCounts(BaseModel):
    open_by_level: dict[str, int] = Field(description="Alarms not cleared, by warning level.")
    open_by_type: dict[str, int] = Field(description="Alarms not cleared, by alarm type.")
    raised_total: int = Field(description="Every alarm ever raised, cleared or not.")


class AlarmAction(_Strict):
    note: str | None = Field(default=None, max_length=500)
    version: int | None = None


class DeadLetterPublic(BaseModel):
    id: int
    received_at: datetime
    source: str
    reason: str
    detail: str
    device_id: str | None
    message_id: str | None
    payload: str


class StreamHealth(BaseModel):
    partitions: int
    owned: list[int] = Field(description="The partitions this process works.")
    records_taken: int


class IngestHealth(BaseModel):
    """The intake pipeline's counters since this process started, and where its journal stands."""

    bodies: int
    readings: int
    duplicates: int
    dead: int = Field(description="Messages dead-lettered.")
    alarms: int
    groups: int = Field(description="Journal groups processed.")
    queued: int = Field(description="Bodies journaled but not processed yet.")
    journal_seq: int
    checkpointed_seq: int
    lake_pending_rows: int = Field(description="Rows buffered for the lake, not yet in a file.")
    devices: int
    rules: int
    rule_state_bytes: int
    watermark: float | None = Field(
        description="Event time (Unix seconds) the rules have run up to; null before the first tick."
    )
    stream: StreamHealth | None = Field(default=None, description="Scaled out: this process's share.")


class IngestReceipt(BaseModel):
    """What a batch of readings came to: taken (journaled, so never lost), repeats dropped, dead-lettered."""

    messages: int
    readings: int
    duplicates: int
    dead_lettered: int
    reasons: dict[str, int]


class DeviceMap(BaseModel):
    """The devices as the map draws them: one short row each (see ``columns``)."""

    as_of: datetime
    columns: list[str]
    states: list[str] = Field(description="What a row's state index means: online, silent, alarm, disabled.")
    types: list[str] = Field(description="What a row's type index means: device type codes.")
    rows: list[list[Any]] = Field(description="[lon, lat, state index, type index, device_id, building_code]")


class TimelineAlarm(BaseModel):
    id: int
    alarm_type: str
    level: str
    status: str
    origin: str
    building_code: str | None
    lon: float | None
    lat: float | None
    raised_at: datetime = Field(description="The event time of the reading that raised it.")
    acknowledged_at: datetime | None
    cleared_at: datetime | None = Field(description="The event time it cleared, or when a person cleared it.")
    case_number: str | None


class AlarmTimeline(BaseModel):
    items: list[TimelineAlarm]


class AlarmChange(BaseModel):
    """An alarm another domain judged (a crowd zone's warning), raised or cleared through the sensing
    platform's own alarm path: one open alarm per ``origin`` and ``alarm_type``, audited, on the live feed,
    opening a case when ``case_category`` is given."""

    kind: Literal["raise", "clear"]
    origin: str = Field(max_length=64)
    scope: str = Field(default="zone", max_length=8)
    alarm_type: str = Field(max_length=64)
    rule_code: str = Field(max_length=64)
    level: str = "yellow"
    severity: str = "major"
    event_ts: float
    measurement: str | None = None
    value: float | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    case_category: str | None = None
    description: str | None = None
    lon: float | None = None
    lat: float | None = None
    community_code: str | None = None
    address: str | None = None
