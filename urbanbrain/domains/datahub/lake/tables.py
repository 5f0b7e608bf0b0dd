"""The district lake's tables as data: each table's key, partition rule and columns with their descriptions and
masks. The catalog is generated from these, the files are written with these schemas, and the landing fills
these columns; one list, so the three cannot drift apart.

A column's ``mask`` says what a protected field gets when served (``id_number``, ``phone`` or ``name``); None
means not protected. Sealed values (ID numbers, phones, a reporter's contact) land already masked: the lake
never holds them in the clear. Names land clear and are masked when served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

Mask = Literal["id_number", "phone", "name"]
TS = pa.timestamp("us")  # UTC, stored naive, as the readings are


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description_zh: str
    description_en: str
    mask: Mask | None = None

    @property
    def protected(self) -> bool:
        return self.mask is not None


@dataclass(frozen=True)
class LakeTable:
    """One table of the lake. ``key`` names a record (None: rows are append-only facts, such as readings);
    ``partition_by`` is the UTC timestamp column whose local date names the ``date=YYYY-MM-DD`` folder (None:
    the files lie in the table's folder itself)."""

    name: str
    title_zh: str
    title_en: str
    key: str | None
    partition_by: str | None
    columns: tuple[Column, ...]
    versioned: bool = True  # rows carry version and landed_at; reads keep the newest per key
    landed: bool = field(default=True)  # landed from the bus by this domain (readings are written by sensing)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: pa.DataType, zh: str, en: str, mask: Mask | None = None) -> Column:
    return Column(name, type_, zh, en, mask)


S, I64, F, B, D = pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.date32()

_VERSIONED = (
    _c("version", I64, "记录版本号（乐观锁版本），同一记录取最大者为最新", "The row's version (optimistic lock); the highest is the current one"),
    _c("landed_at", TS, "入湖时间（UTC），同版本时取最晚入湖者", "When the row was read from the database into the lake (UTC); breaks ties between equal versions"),
)  # fmt: skip
_PLACE = (
    _c("street_code", S, "所属街道编码", "Street (subdistrict) code"),
    _c("community_code", S, "所属社区编码", "Community code"),
    _c("grid_code", S, "所属网格编码", "Grid cell code"),
    _c("lon", F, "经度（WGS84）", "Longitude (WGS84)"),
    _c("lat", F, "纬度（WGS84）", "Latitude (WGS84)"),
)
_STAMPS = (
    _c("created_at", TS, "创建时间（UTC）", "When the record was created (UTC)"),
    _c("updated_at", TS, "最后更新时间（UTC）", "When the record was last changed (UTC)"),
)

CASES = LakeTable(
    "cases", "事件工单", "Cases", key="case_id", partition_by="reported_at",
    columns=(
        _c("case_id", I64, "事件内部编号", "The case's internal id"),
        _c("number", S, "事件编号（立案时赋予）", "Case number, given at registration"),
        _VERSIONED[0],
        _c("state", S, "当前状态（上报、立案、派遣、处置、核查、结案等）", "Current state (reported, registered, dispatched, resolved, verified, closed, ...)"),
        _c("source", S, "来源渠道：app、扫码、热线、网格员、传感器、舆情、坐席", "Channel it came in by: app, qr, hotline, grid, sensor, opinion, operator"),
        _c("category_code", S, "事件小类编码", "Case class (minor category) code"),
        _c("major_code", S, "事件大类编码", "Major category code"),
        _c("request_kind", S, "诉求类型：咨询、投诉、求助、举报、建议", "Request kind: consultation, complaint, help, report, suggestion"),
        _c("priority", I64, "优先级（1 最高）", "Priority (1 is the most urgent)"),
        _c("title", S, "标题", "Title"),
        _c("description", S, "问题描述", "Description of the problem"),
        _c("lon", F, "经度（WGS84）", "Longitude (WGS84)"),
        _c("lat", F, "纬度（WGS84）", "Latitude (WGS84)"),
        _c("address", S, "地址", "Address"),
        _c("street_code", S, "所属街道编码", "Street (subdistrict) code"),
        _c("community_code", S, "所属社区编码", "Community code"),
        _c("grid_code", S, "所属网格编码", "Grid cell code"),
        _c("facility_code", S, "涉及设施编码（扫码上报）", "Facility code, when reported from a facility's QR code"),
        _c("department_code", S, "当前承办部门编码", "Department that holds the case now"),
        _c("reporter_name", S, "上报人姓名", "Reporter's name", "name"),
        _c("reporter_contact", S, "上报人联系方式（已脱敏）", "Reporter's contact, masked", "phone"),
        _c("emergency", B, "是否需 110/119/120 立即处置", "Whether it needed 110/119/120 at once"),
        _c("escalation_level", I64, "督办升级级别（0 为未升级）", "Escalation level (0: not escalated)"),
        _c("reported_at", TS, "上报时间（UTC），分区依据", "When it was reported (UTC); its local date is the partition"),
        _c("registered_at", TS, "立案时间（UTC）", "When it was registered (UTC)"),
        _c("dispatched_at", TS, "派遣时间（UTC）", "When it was dispatched (UTC)"),
        _c("accepted_at", TS, "部门受理时间（UTC）", "When the department accepted it (UTC)"),
        _c("resolved_at", TS, "处置完成时间（UTC）", "When it was resolved (UTC)"),
        _c("verified_at", TS, "核查通过时间（UTC）", "When a verifier passed it (UTC)"),
        _c("closed_at", TS, "结案时间（UTC）", "When it was closed (UTC)"),
        _c("accept_due_at", TS, "受理时限（UTC）", "Time limit to accept (UTC)"),
        _c("resolve_due_at", TS, "处置时限（UTC）", "Time limit to resolve (UTC)"),
        _c("sla_breached_at", TS, "超时时间（UTC），未超时为空", "When it broke its time limit (UTC); empty if it did not"),
        _c("satisfaction", I64, "回访满意度（1-5）", "Reporter's satisfaction from the callback (1-5)"),
        _c("merged_into_id", I64, "被合并到的事件内部编号（重复件）", "The case it was merged into, for a duplicate"),
        _c("updated_at", TS, "最后更新时间（UTC）", "When the case last changed (UTC)"),
        _VERSIONED[1],
    ),
)  # fmt: skip

ALARMS = LakeTable(
    "alarms", "物联告警", "Alarms", key="alarm_id", partition_by="raised_at",
    columns=(
        _c("alarm_id", I64, "告警内部编号", "The alarm's internal id"),
        _VERSIONED[0],
        _c("origin", S, "告警来源：设备编号，或楼栋编码（群组告警）", "Where it comes from: a device id, or a building code for a group alarm"),
        _c("scope", S, "范围：device（单设备）或 group（群组）", "Scope: device or group"),
        _c("alarm_type", S, "告警类型", "Alarm type"),
        _c("rule_code", S, "触发规则编码", "Code of the rule that raised it"),
        _c("severity", S, "严重程度", "Severity"),
        _c("level", S, "预警级别：蓝、黄、橙、红", "Warning level: blue, yellow, orange, red"),
        _c("status", S, "状态：active（活动）、acknowledged（已确认）、cleared（已解除）", "Status: active, acknowledged, cleared"),
        _c("building_code", S, "所在楼栋编码", "Building code"),
        _c("community_code", S, "所属社区编码", "Community code"),
        _c("street_code", S, "所属街道编码（由楼栋得出）", "Street code (from the building)"),
        _c("lon", F, "经度（WGS84）", "Longitude (WGS84)"),
        _c("lat", F, "纬度（WGS84）", "Latitude (WGS84)"),
        _c("measurement", S, "触发的测量项", "Measurement that triggered it"),
        _c("value", F, "触发时的读数", "Reading that triggered it"),
        _c("count", I64, "活动期间再次触发的次数（含首次）", "Times it was raised while open, the first included"),
        _c("event_at", TS, "触发读数的事件时间（UTC）", "Event time of the reading that raised it (UTC)"),
        _c("raised_at", TS, "平台产生告警的时间（UTC），分区依据", "When the platform raised it (UTC); its local date is the partition"),
        _c("last_event_at", TS, "最近一次触发的事件时间（UTC）", "Event time of the latest raise (UTC)"),
        _c("acknowledged_at", TS, "确认时间（UTC）", "When it was acknowledged (UTC)"),
        _c("cleared_event_at", TS, "解除读数的事件时间（UTC）", "Event time of the reading that cleared it (UTC)"),
        _c("cleared_at", TS, "解除时间（UTC）", "When it was cleared (UTC)"),
        _c("case_number", S, "由此告警生成的事件编号", "Number of the case opened for it"),
        _VERSIONED[1],
    ),
)  # fmt: skip

BUILDINGS = LakeTable(
    "buildings", "楼栋", "Buildings", key="building_code", partition_by=None,
    columns=(
        _c("building_code", S, "楼栋编码", "Building code"),
        _c("name", S, "楼栋名称", "Building name"),
        _c("address", S, "地址", "Address"),
        _c("use", S, "用途：住宅、商业、混合、办公、工业、公共", "Use: residential, commercial, mixed, office, industrial, public"),
        _c("floors", I64, "层数", "Number of floors"),
        _c("structure", S, "结构类型", "Structure"),
        _c("built_year", I64, "建成年份", "Year built"),
        _c("village_code", S, "所属城中村编码", "Urban village code"),
        *_PLACE,
        _c("owner_name", S, "业主姓名", "Owner's name", "name"),
        _c("owner_phone", S, "业主电话（已脱敏）", "Owner's phone, masked", "phone"),
        *_STAMPS,
        *_VERSIONED,
    ),
)  # fmt: skip

RESIDENTS = LakeTable(
    "residents", "实有人口", "Residents", key="resident_id", partition_by=None,
    columns=(
        _c("resident_id", I64, "人口记录内部编号", "The resident record's internal id"),
        _c("unit_code", S, "所住房屋（户）编码", "Code of the unit (household) lived in"),
        _c("building_code", S, "所在楼栋编码", "Building code"),
        _c("street_code", S, "所属街道编码", "Street (subdistrict) code"),
        _c("community_code", S, "所属社区编码", "Community code"),
        _c("name", S, "姓名", "Name", "name"),
        _c("gender", S, "性别", "Gender"),
        _c("birth_year", I64, "出生年份", "Year of birth"),
        _c("relation", S, "与户关系：户主、成员、租户", "Relation to the household: head, member, tenant"),
        _c("id_number", S, "身份证号（已脱敏）", "ID number, masked", "id_number"),
        _c("id_number_index", S, "身份证号盲索引（密钥哈希，可按人关联，不含号码）", "Blind index of the ID number (keyed hash): joins on a person without the number"),
        _c("phone", S, "手机号（已脱敏）", "Phone, masked", "phone"),
        _c("moved_in", D, "入住日期", "Date moved in"),
        *_STAMPS,
        *_VERSIONED,
    ),
)  # fmt: skip

VENUES = LakeTable(
    "venues", "场所", "Venues", key="venue_code", partition_by=None,
    columns=(
        _c("venue_code", S, "场所编码", "Venue code"),
        _c("name", S, "场所名称", "Venue name"),
        _c("kind", S, "场所类型（九小场所、人员密集场所等）", "Kind of venue"),
        _c("category", S, "行业类别", "Trade category"),
        _c("building_code", S, "所在楼栋编码", "Building code"),
        _c("address", S, "地址", "Address"),
        _c("operator_name", S, "经营者姓名", "Operator's name", "name"),
        _c("operator_phone", S, "经营者电话（已脱敏）", "Operator's phone, masked", "phone"),
        _c("employees", I64, "从业人数", "Employees"),
        _c("floor_area_m2", F, "经营面积（平方米）", "Floor area (m²)"),
        _c("status", S, "状态：营业、停业、暂停", "Status: open, closed, suspended"),
        *_PLACE,
        *_STAMPS,
        *_VERSIONED,
    ),
)  # fmt: skip

FACILITIES = LakeTable(
    "facilities", "城市部件设施", "Facilities", key="facility_code", partition_by=None,
    columns=(
        _c("facility_code", S, "设施编码（二维码标识）", "Facility code (its QR identity)"),
        _c("kind", S, "设施类型", "Kind of facility"),
        _c("name", S, "设施名称", "Facility name"),
        _c("owner_department_code", S, "权属（养护）部门编码", "Code of the department that owns it"),
        _c("responsible_person", S, "责任人姓名", "Name of the person responsible", "name"),
        _c("responsible_phone", S, "责任人工作电话（公开）", "Work phone of the person responsible (public)"),
        _c("installed_on", D, "安装日期", "Date installed"),
        _c("status", S, "状态：在用、损坏、拆除", "Status: in_service, damaged, removed"),
        *_PLACE,
        *_STAMPS,
        *_VERSIONED,
    ),
)  # fmt: skip

# Written by the sensing domain (its readings lake); described here so the catalog and `lake inspect` know it.
READINGS = LakeTable(
    "readings", "物联感知读数", "Sensor readings", key=None, partition_by="ts", versioned=False, landed=False,
    columns=(
        _c("device_id", S, "设备编号", "Device id"),
        _c("measurement", S, "测量项", "Measurement"),
        _c("value", F, "读数", "Value"),
        _c("ts", TS, "读数的事件时间（UTC），分区依据", "Event time of the reading (UTC); its local date is the partition"),
        _c("received_at", TS, "平台接收时间（UTC）", "When the platform received it (UTC)"),
        _c("message_id", S, "设备消息编号（去重用）", "The device's message id (for dropping duplicates)"),
    ),
)  # fmt: skip

TABLES: dict[str, LakeTable] = {
    t.name: t for t in (CASES, ALARMS, BUILDINGS, RESIDENTS, VENUES, FACILITIES, READINGS)
}
REGISTRY_TABLES = ("buildings", "residents", "venues", "facilities")
UPLOADS = "uploads"


def upload_table(code: str, schema: pa.Schema) -> LakeTable:
    """An uploaded dataset as a lake table: its own columns, no key, no versions (an upload replaces them)."""
    return LakeTable(
        f"{UPLOADS}/{code}", code, code, key=None, partition_by=None, versioned=False, landed=False,
        columns=tuple(Column(f.name, f.type, "", "") for f in schema),
    )  # fmt: skip
