"""Open311 GeoReport v2 on the wire: parameters in (read by hand, so that a bad one is refused in the spec's
shape), the same data out as JSON or as XML with the spec's element names, W3C datetimes, the error messages
and the spec's error body (``[{"code", "description"}]`` / ``<errors><error>``)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal

from fastapi.responses import Response
from pydantic import BaseModel, Field

from urbanbrain.api.params import EARLIEST_YEAR, LATEST_YEAR
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MEDIA_TYPES = ["text/xml", "application/json"]  # as listed in discovery
MAX_DAYS = 90
MAX_RESULTS = 1000

# A list under one of these names holds elements of the singular name (the spec's XML shapes).
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DATE_ONLY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def w3(value: datetime | None, offset_hours: int) -> str | None:
    """An aware datetime as W3C/ISO 8601 with the district's offset, e.g. 2018-07-09T08:00:00+08:00."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(timezone(timedelta(hours=offset_hours))).isoformat(timespec="seconds")


def parse_w3(text: str, offset_hours: int) -> datetime:
    """Read a W3C datetime (``2010-01-01T00:00:00Z``, ``...+08:00``; a bare date or a time without an
    offset is read in the district's time). Raises ``ValueError`` when it is not one, or is outside the
    years :mod:`urbanbrain.api.params` allows (year 1 at +08:00 is no UTC time at all)."""
    text = text.strip()
    tz = timezone(timedelta(hours=offset_hours))
    if _DATE_ONLY.match(text):
        parts = [int(p) for p in text.split("-")] + [1, 1]
        value = datetime.combine(date(parts[0], parts[1], parts[2]), time(0), tz)
    elif "T" in text:
        value = datetime.fromisoformat(text.replace("z", "Z"))
    else:
        raise ValueError(text)
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item = ITEM_NAMES.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """``data`` (a list for plural roots, a dict otherwise) under ``<root>``, UTF-8 with its declaration."""
    element = ET.Element(root)
    _fill(element, data)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode()


def render(data: Any, fmt: str, root: str, status: int = 200) -> Response:
    """The response in the requested format (``json`` or ``xml``)."""
    if fmt == "xml":
        body = to_xml(root, data)
    else:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type=FORMATS[fmt])


def error(status: int, description: str, fmt: str = "json") -> Response:
    """The spec's error body, with the HTTP status as the error code."""
    return render(
        [{"code": status, "description": description}], fmt if fmt in FORMATS else "json", "errors", status
    )


register_messages(
    {
        "open311.unknown_format": (
            404,
            "不支持的格式“{fmt}”，请使用 .json 或 .xml。",
            "Unknown format '{fmt}': use .json or .xml.",
        ),
        "open311.no_route": (404, "没有这个 Open311 地址：{path}。", "No such Open311 resource: {path}."),
        "open311.method": (
            405,
            "此 Open311 地址不支持 {method}。",
            "This Open311 resource does not accept {method}.",
        ),
        "open311.api_key_required": (
            400,
            "未提供 api_key：请使用具有 open311 权限范围的 API 密钥。",
            "api_key was not provided: send an API key with the open311 scope.",
        ),
        "open311.missing": (400, "缺少参数 {name}。", "The parameter {name} is required."),
        "open311.invalid": (
            400,
            "参数 {name} 不合法：{zh}。",
            "The parameter {name} is not valid: {en}.",
        ),
        "open311.form_required": (
            400,
            "请以 application/x-www-form-urlencoded 或 multipart/form-data 提交表单。",
            "Send the request form-encoded (application/x-www-form-urlencoded or multipart/form-data).",
        ),
        "open311.location_required": (
            400,
            "请提供经纬度（lat 和 long）、地址文字 address_string 或设施二维码编号 attribute[facility_code]。",
            "Give lat and long, an address_string (an address or a place in words), or attribute[facility_code].",
        ),
        "open311.jurisdiction": (
            404,
            "找不到辖区 {given}：本服务只受理辖区 {expected}。",
            "jurisdiction_id {given} was not found: this server serves {expected}.",
        ),
        "open311.span_too_long": (
            400,
            "查询时间范围不能超过 {days} 天（start_date 至 end_date）。",
            "The span from start_date to end_date may not exceed {days} days.",
        ),
        "open311.unknown_service": (404, "找不到服务 {code}。", "No service has the code {code}."),
        "open311.request_not_found": (404, "找不到服务请求 {ref}。", "No service request {ref}."),
    }
)


@dataclass
class Ctx:
    """One Open311 call: the platform, its parameters (query, or query and form) and attributes."""

    platform: Platform
    values: dict[str, list[str]]
    attributes: dict[str, str] = field(default_factory=dict)
    api_key: str | None = None
    url: str = ""

    @property
    def offset(self) -> int:
        return self.platform.settings.utc_offset_hours

    def one(self, name: str) -> str | None:
        """The parameter's last non-blank value."""
        found = [v.strip() for v in self.values.get(name, []) if v.strip()]
        return found[-1] if found else None

    def many(self, name: str) -> list[str]:
        """A comma list, which may also be given several times."""
        return [p.strip() for v in self.values.get(name, []) for p in v.split(",") if p.strip()]

    def number(self, name: str, default: int, high: int) -> int:
        text = self.one(name)
        if text is None:
            return default
        if not text.isdigit() or not 1 <= int(text) <= high:
            raise invalid(name, f"应为 1 到 {high} 的整数", f"a whole number from 1 to {high}")
        return int(text)

    def moment(self, name: str) -> datetime | None:
        text = self.one(name)
        try:
            return parse_w3(text, self.offset) if text else None
        except ValueError:
            raise invalid(
                name,
                f"请使用 {EARLIEST_YEAR} 至 {LATEST_YEAR} 年间的 W3C 日期时间，如 2018-07-09T08:00:00+08:00",
                f"use a W3C datetime from year {EARLIEST_YEAR} to {LATEST_YEAR}, such as 2018-07-09T08:00:00+08:00",
            ) from None

    def window(self) -> tuple[datetime, datetime]:
        """start_date..end_date; by default the last 90 days, and never more than 90 days."""
        given_start, given_end, span = (
            self.moment("start_date"),
            self.moment("end_date"),
            timedelta(days=MAX_DAYS),
        )
        if given_start is not None:
            start, end = given_start, given_end or given_start + span
        else:
            end = given_end or self.platform.clock.now()
            start = end - span
        if start > end:
            raise invalid("start_date", "晚于 end_date", "it is after end_date")
        if end - start > span:
            raise UrbanBrainError("open311.span_too_long", days=MAX_DAYS)
        return start, end

    def paging(self) -> tuple[int, int]:
        page, size = self.number("page", 1, 10**6), self.number("page_size", MAX_RESULTS, MAX_RESULTS)
        return (page - 1) * size, size


def spec_status(err: UrbanBrainError) -> int:
    """The spec's statuses: an invalid value is a 400, an invalid key a 403."""
    return {401: 403, 422: 400}.get(err.status, err.status)


def invalid(name: str, zh: str, en: str) -> UrbanBrainError:
    """A parameter refused, with the reason in both languages."""
    return UrbanBrainError("open311.invalid", name=name, zh=zh, en=en)


# --- the spec's shapes, for the OpenAPI document (answers are rendered by hand, in JSON or XML) ----------


class Open311Endpoint(BaseModel):
    specification: str
    url: str
    changeset: datetime
    type: Literal["production", "test"]
    formats: list[str]


class Open311Discovery(BaseModel):
    changeset: datetime = Field(description="When this description last changed.")
    contact: str
    key_service: str = Field(description="How to get an API key.")
    endpoints: list[Open311Endpoint]


class Open311Service(BaseModel):
    service_code: str = Field(description="A minor class of the taxonomy, or auto (the classifier picks).")
    service_name: str
    description: str
    metadata: bool = Field(description="Whether the service has attributes (see its definition).")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str = Field(description="The major class.")


class Open311Attribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[dict[str, str]] = Field(description="A list attribute's choices ({key, name}).")


class Open311ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Created(BaseModel):
    """A posted request: its id once registered, else a token to look the id up with later."""

    service_request_id: str | None = None
    token: str | None = None
    service_notice: str | None = Field(description="The time limit the district commits to.")
    account_id: str | None


class Open311Request(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str = Field(description="The state in both languages, with the latest public note.")
    service_name: str | None
    service_code: str | None
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime | None
    expected_datetime: datetime | None = Field(description="When it is due to be resolved.")
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Token(BaseModel):
    service_request_id: str | None = Field(description="Null until the case is registered.")
    token: str


class Open311Update(BaseModel):
    update_id: str
    service_request_id: str
    status: Literal["open", "closed"]
    updated_datetime: datetime
    description: str
    media_url: str | None = Field(description="The reporter's photo, on the report itself.")


class Open311Error(BaseModel):
    code: int = Field(description="The HTTP status.")
    description: str = Field(description="What is wrong, in the caller's language.")


XML_ERRORS = {"schema": {"type": "string", "description": "The same errors as XML, under <errors>."}}
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": list[Open311Error],
        "description": "The spec's error list: 400 a parameter is missing or not valid, 403 the API key is "
        "not valid, 404 no such resource, service, request or jurisdiction, 405 method not allowed",
        "content": {"text/xml": XML_ERRORS},
    }
}

# Query parameters read by hand (so that a bad one is refused in the spec's shape), as documented.
PARAMETERS: dict[str, dict[str, Any]] = {
    "jurisdiction_id": {"type": "string"},
    "service_request_id": {"type": "string", "description": "One id, or several separated by commas."},
    "service_code": {"type": "string", "description": "One code, or several separated by commas."},
    "start_date": {"type": "string", "format": "date-time", "description": "W3C datetime."},
    "end_date": {"type": "string", "format": "date-time", "description": "W3C datetime."},
    "status": {"type": "string", "description": "open, closed or open,closed."},
    "page": {"type": "integer", "minimum": 1, "maximum": 10**6},
    "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS},
}


def answers(model: Any, root: str) -> dict[str, Any]:
    """Route arguments documenting an answer rendered by hand: ``model`` as JSON, the same under ``<root>``
    as XML."""
    xml = {"schema": {"type": "string", "description": f"The same data as XML, under <{root}>."}}
    return {
        "response_class": Response,
        "responses": {200: {"model": model, "description": "JSON or XML", "content": {"text/xml": xml}}},
    }


def openapi_params(*names: str) -> dict[str, Any]:
    """OpenAPI documentation for query parameters that are read by hand."""
    return {
        "parameters": [{"name": n, "in": "query", "required": False, "schema": PARAMETERS[n]} for n in names]
    }
