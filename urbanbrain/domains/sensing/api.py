"""``/api/v1/sensing``: the HTTP door for readings, device types, devices (one by one and from CSV), alarm
rules, alarms, dead letters and the readings history. Alarms go live on the command centre's feed
(``/api/v1/alerts/stream``, served by the core)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader

from urbanbrain.api.bulk import bulk_json
from urbanbrain.api.deps import PlatformDep, SessionDep, WaitingPrincipal, oauth2, principal_now, require
from urbanbrain.api.errors import error_response, responses
from urbanbrain.api.paging import PageDep
from urbanbrain.api.params import Id, IsoDateTime, aware
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus import Event
from urbanbrain.core.config import pending_readings_for_memory
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.live import feed
from urbanbrain.core.paging import Page, paged
from urbanbrain.domains.sensing import actions, queries
from urbanbrain.domains.sensing import schemas as s
from urbanbrain.domains.sensing.ingest.budget import BodyBudget
from urbanbrain.domains.sensing.ingest.pipeline import CACHE_KEY, Pipeline
from urbanbrain.domains.sensing.ingest.service import services
from urbanbrain.domains.sensing.ingest.wire import MAX_BODY_BYTES, Dead
from urbanbrain.domains.sensing.models import Alarm, DeadLetter, Device

register_messages(
    {
        "sensing.no_valid_readings": (
            422,
            "这批读数没有一条可用（{reasons}），已存入死信，请修正后重发：{why_zh}",
            "No reading in this batch could be taken ({reasons}); they are in the dead letters. Fix and "
            "resend: {why_en}",
        ),
        "sensing.not_running": (503, "读数接收未启动。", "Reading intake is not running."),
    }
)

router = APIRouter(tags=["sensing"])
Watcher = Annotated[Principal, require("sensing.devices.read")]
AlarmReader = Annotated[Principal, require("sensing.alarms.read")]
AlarmHandler = Annotated[Principal, require("sensing.alarms.handle")]
Installer = Annotated[Principal, require("sensing.devices.write")]
RuleWriter = Annotated[Principal, require("sensing.rules.write")]


def setup(app: FastAPI, platform: Platform) -> list[Any]:
    """Alarms on the live feed; the pipeline (and the MQTT door when configured) start with the app."""
    feed(platform).show(
        "sensing.alarm.*",
        name="alarm",
        permission="sensing.alarms.read",
        render=alarm_item,
        id_field="alarm_id",
    )
    return services(platform)


def alarm_item(event: Event) -> dict[str, Any]:
    """An alarm event as the screens show it: the alarm, and ``event`` saying what happened (raised,
    acknowledged, cleared, case_opened)."""
    hidden = ("id", "actor", "case_category", "rule_description", "address")
    return {
        "event": event.type.rsplit(".", 1)[1],
        **{k: v for k, v in event.payload.items() if k not in hidden},
    }


def pipeline_of(platform: Platform) -> Pipeline:
    pipeline: Pipeline | None = platform.caches.get(CACHE_KEY)
    if pipeline is None:
        raise UrbanBrainError("sensing.not_running")
    return pipeline


def _changed(session: Any, platform: Platform) -> None:
    """This process changed devices or rules: the pipeline takes them right after the commit."""
    pipeline = platform.caches.get(CACHE_KEY)
    if pipeline is not None:
        session.info.setdefault("after_commit", []).append(
            lambda: pipeline.call(lambda: pipeline._reload(force=True))
        )


# --- readings ------------------------------------------------------------------------------------------

# The readings door reads its body itself (msgspec, in the pipeline), so its shape is declared here for
# /docs: the wire format of urbanbrain.domains.sensing.ingest.wire.Message.
READING_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "device", "ts", "values"],
    "properties": {
        "id": {
            "type": "string", "minLength": 1, "maxLength": 64,
            "description": "The message's own id: a resend with the same id is dropped as a repeat.",
        },
        "device": {
            "type": "string", "minLength": 1, "maxLength": 64,
            "description": "The device id (over MQTT the topic names it instead).",
        },
        "ts": {
            "anyOf": [
                {"type": "number", "description": "Seconds since 1970-01-01 UTC."},
                {"type": "string", "format": "date-time", "description": "ISO 8601 with an offset."},
            ],
            "description": "When it was measured.",
        },
        "values": {
            "type": "object", "minProperties": 1, "maxProperties": 64,
            "additionalProperties": {"type": "number"},
            "description": "Measurement name to value, e.g. {\"smoke\": 0.12, \"temperature\": 31.5}.",
        },
    },
    "example": {"id": "m-0001", "device": "SD-0001", "ts": "2018-07-09T08:00:00+08:00", "values": {"smoke": 0.12}},
}  # fmt: skip
READINGS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A JSON array of messages, one message, or NDJSON (one message a line).",
        "content": {
            "application/json": {
                "schema": {"anyOf": [{"type": "array", "items": READING_MESSAGE}, READING_MESSAGE]}
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One JSON message a line."},
                "example": '{"id": "m-0001", "device": "SD-0001", "ts": 1531094400, "values": {"smoke": 0.12}}\n',
            },
        },
    }
}
# Security schemes Swagger UI can fill in; the door reads the headers itself (a device key first).
device_key = APIKeyHeader(name="X-Device-Key", scheme_name="DeviceKey", auto_error=False,
                          description="A device's own key: it may send only its own readings.")  # fmt: skip
api_key = APIKeyHeader(name="X-API-Key", scheme_name="ApiKey", auto_error=False,
                       description="An API key with the devices:write scope (a gateway).")  # fmt: skip
BODY_BUDGET_KEY = "sensing.body_budget"
EXPLAINED = 5  # dead messages explained in a refusal's answer; the dead letters keep them all


def _sender(
    request: Request,
    platform: PlatformDep,
    token: Annotated[str | None, Depends(oauth2)],
    key: Annotated[str | None, Depends(device_key)],
    _gateway: Annotated[str | None, Depends(api_key)],  # read by principal_now; here for /docs
) -> str | None:
    """A device (its own key: it may send only its own readings) or a gateway/user with readings.write."""
    if key:
        device = pipeline_of(platform).device_for_key(key)
        if device is None:
            raise UrbanBrainError("sensing.bad_device_key")
        return device
    principal_now(request, platform, token).require("sensing.readings.write")
    return None


def _watcher(principal: WaitingPrincipal) -> Principal:
    principal.require("sensing.alarms.read")
    return principal


def _explained(dead: list[Dead]) -> tuple[list[dict[str, Any]], str, str]:
    """The first few dead messages as the answer shows them, and as a sentence in each language."""
    shown = [
        {"reason": d.reason, "detail": d.detail, "device": d.device_id, "message": d.message_id}
        for d in dead[:EXPLAINED]
    ]
    zh = "；".join(
        f"消息 {x['message'] or '?'}（设备 {x['device'] or '?'}）：{x['reason']}，{x['detail']}"
        for x in shown
    )
    en = "; ".join(f"message {x['message'] or '?'} (device {x['device'] or '?'}): {x['reason']}, {x['detail']}"
                   for x in shown)  # fmt: skip
    more = len(dead) - len(shown)
    if more > 0:
        zh, en = f"{zh}；另有 {more} 条", f"{en}; and {more} more"
    return shown, zh, en


def _body_budget(platform: Platform) -> BodyBudget:
    """The door's budget of body bytes, one per process, sized with the pending limit."""
    budget: BodyBudget | None = platform.caches.get(BODY_BUDGET_KEY)
    if budget is None:
        limit = platform.settings.sensing_max_pending or pending_readings_for_memory()
        budget = platform.caches.setdefault(BODY_BUDGET_KEY, BodyBudget.for_pending(limit))
    return budget


def _declared_size(request: Request) -> int:
    try:
        return max(0, int(request.headers.get("content-length") or 0))
    except ValueError:
        return 0  # counted as it is read


def _busy(request: Request) -> JSONResponse:
    return error_response(
        request, UrbanBrainError("sensing.busy", retry_after=1), headers={"Retry-After": "1"}
    )


@router.post(
    "/readings",
    status_code=202,
    response_model=s.IngestReceipt,
    openapi_extra=READINGS_BODY,
    responses=responses(
        413, 429, 503, said={413: "The body is over 16 MiB (sensing.body_too_large): split it",
                             429: "The pipeline is behind (sensing.busy): resend the same batch after Retry-After",
                             503: "Reading intake is not running (sensing.not_running)"},
    ),
)  # fmt: skip
async def post_readings(
    request: Request, platform: PlatformDep, only: Annotated[str | None, Depends(_sender)]
) -> Any:
    """Readings as a JSON array of messages, one message, or NDJSON (``Content-Type: application/x-ndjson``).
    Answered once they are journaled: 202 with what was taken, repeats dropped and messages dead-lettered
    (with reasons); 429 with Retry-After when the pipeline is behind — resend the same batch."""
    pipeline = pipeline_of(platform)
    budget = _body_budget(platform)
    declared = _declared_size(request)
    if declared > MAX_BODY_BYTES:
        raise UrbanBrainError("sensing.body_too_large", limit=MAX_BODY_BYTES)
    if not budget.reserve(declared):
        return _busy(request)  # answered before the body is read: it is not in memory
    held = declared
    try:
        chunks: list[bytes] = []
        got = 0
        async for chunk in request.stream():
            got += len(chunk)
            if got > MAX_BODY_BYTES:
                raise UrbanBrainError("sensing.body_too_large", limit=MAX_BODY_BYTES)
            if got > held:  # no Content-Length, or more than it said
                if not budget.reserve(got - held, more_of_one=True):
                    return _busy(request)
                held = got
            chunks.append(chunk)
        body = b"".join(chunks)
        del chunks
        ndjson = "ndjson" in (request.headers.get("content-type") or "")
        try:
            receipt = await asyncio.wrap_future(pipeline.submit(body, ndjson=ndjson, only_device=only))
        except UrbanBrainError as exc:
            if exc.code == "sensing.busy":
                return _busy(request)
            raise
    finally:
        budget.release(held)
    out = receipt.public()
    if receipt.messages == 0 and receipt.dead and not receipt.duplicates:
        reasons = ", ".join(f"{k} ×{v}" for k, v in out["reasons"].items())
        shown, why_zh, why_en = _explained(receipt.dead)
        err = UrbanBrainError(
            "sensing.no_valid_readings",
            reasons=reasons,
            why_zh=why_zh,
            why_en=why_en,
            detail={**out, "dead": shown},
        )
        return error_response(request, err)
    return JSONResponse(out, status_code=202)


@router.get("/health", response_model=s.IngestHealth)
def health(platform: PlatformDep, _: Annotated[Principal, Depends(_watcher)]) -> dict[str, Any]:
    return pipeline_of(platform).health()


# --- device types and devices ------------------------------------------------------------------------


@router.get("/device-types", response_model=list[s.DeviceTypePublic])
def list_device_types(session: SessionDep, _: Watcher) -> list[dict[str, Any]]:
    return queries.list_device_types(session)


@router.put("/device-types/{code}", response_model=s.DeviceTypePublic)
def save_device_type(
    code: str, data: s.DeviceTypeCreate, session: SessionDep, platform: PlatformDep, actor: Installer
) -> dict[str, Any]:
    if data.code != code:
        raise UrbanBrainError("request.invalid", summary="the code in the path and the body differ")
    row = actions.do_save_device_type(session, platform, actor, data)
    _changed(session, platform)
    return queries.device_type_public(row)


@router.get("/devices", response_model=Page[s.DevicePublic])
def list_devices(
    session: SessionDep,
    platform: PlatformDep,
    principal: Watcher,
    page: PageDep,
    building: str | None = None,
    community: str | None = None,
    type_code: str | None = None,
) -> dict[str, Any]:
    stmt = queries.devices_stmt(building=building, community=community, type_code=type_code)
    p = paged(session, stmt, page, Device.device_id)
    latest = queries.latest_of(session, [d.device_id for d in p.rows])
    return p.map(lambda d: queries.device_public(platform, principal, d, latest.get(d.device_id)))


@router.post("/devices", status_code=201, response_model=s.DeviceCreated)
def provision_device(
    data: s.DeviceCreate, session: SessionDep, platform: PlatformDep, actor: Installer
) -> dict[str, Any]:
    device, key = actions.do_provision_device(session, platform, actor, data)
    _changed(session, platform)
    return {**queries.device_public(platform, actor, device), "key": key}


DEVICES_CSV = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string", "description": "UTF-8 CSV with a header line."},
                "example": "device_id,device_type,building_code,lon,lat,owner_name,owner_phone,key\n",
            }
        },
    }
}


@router.post("/devices/import", status_code=201, response_model=s.DevicesImported, openapi_extra=DEVICES_CSV)
async def import_devices(request: Request, platform: PlatformDep, actor: Installer) -> dict[str, Any]:
    """Devices from CSV (``text/csv`` body): device_id, device_type, building_code, lon, lat, owner_name,
    owner_phone, key. All or nothing; a bad line is named."""
    text = (await request.body()).decode("utf-8", errors="replace")

    def run() -> int:
        with platform.db.session() as session:
            made = actions.do_import_devices(session, platform, actor, text)
            _changed(session, platform)
            return len(made)

    return {"imported": await asyncio.to_thread(run)}


@router.get("/devices/{device_id}", response_model=s.DevicePublic)
def get_device(
    device_id: str, session: SessionDep, platform: PlatformDep, principal: Watcher
) -> dict[str, Any]:
    d = actions.get_device(session, device_id)
    return queries.device_public(
        platform, principal, d, queries.latest_of(session, [device_id]).get(device_id)
    )


@router.patch("/devices/{device_id}", response_model=s.DevicePublic)
def update_device(
    device_id: str, data: s.DeviceUpdate, session: SessionDep, platform: PlatformDep, actor: Installer
) -> dict[str, Any]:
    d = actions.do_update_device(session, platform, actor, device_id, data)
    _changed(session, platform)
    return queries.device_public(platform, actor, d)


@router.post("/devices/{device_id}/key", response_model=s.DeviceKey)
def rotate_key(
    device_id: str, session: SessionDep, platform: PlatformDep, actor: Installer
) -> dict[str, str]:
    key = actions.do_rotate_device_key(session, platform, actor, device_id)
    _changed(session, platform)
    return {"device_id": device_id, "key": key}


@router.get("/devices/{device_id}/history", response_model=list[s.Reading] | list[s.MinuteRollup])
def device_history(
    device_id: str,
    measurement: str,
    since: IsoDateTime,
    until: IsoDateTime,
    platform: PlatformDep,
    _: Watcher,
    per_minute: bool = False,
) -> list[dict[str, Any]]:
    """One measurement of a device from ``since`` to ``until`` (ISO 8601; without an offset, the district's
    local time), every reading or per minute."""
    offset = platform.settings.utc_offset_hours
    start, end = aware(since, offset), aware(until, offset)
    return queries.history(pipeline_of(platform).lake, device_id, measurement, start, end, per_minute)


@router.get("/buildings/status", response_model=dict[str, s.BuildingStatus])
def buildings_status(
    session: SessionDep, _: AlarmReader, building: list[str] | None = Query(None)
) -> dict[str, Any]:
    return queries.building_status(session, building)


# --- rules ---------------------------------------------------------------------------------------------


@router.get("/rules", response_model=list[s.RulePublic])
def list_rules(session: SessionDep, _: Watcher) -> list[dict[str, Any]]:
    return queries.list_rules(session)


@router.put("/rules/{code}", response_model=s.RulePublic)
def save_rule(
    code: str, data: s.RuleCreate, session: SessionDep, platform: PlatformDep, actor: RuleWriter
) -> dict[str, Any]:
    if data.code != code:
        raise UrbanBrainError("request.invalid", summary="the code in the path and the body differ")
    row = actions.do_save_rule(session, platform, actor, data)
    _changed(session, platform)
    return queries.rule_public(row)


# --- alarms and dead letters -------------------------------------------------------------------------


def _alarm_public(a: Alarm) -> s.AlarmPublic:
    return s.AlarmPublic.model_validate(a, from_attributes=True)


@router.get("/map/devices", response_model=s.DeviceMap)
def device_map(session: SessionDep, platform: PlatformDep, _: Watcher) -> Response:
    """Every located device for the command centre's map, one short row each: ``[lon, lat, state, type,
    device_id, building_code]``, ``state`` an index into ``states`` (online, silent for 30 minutes, alarm,
    disabled) and ``type`` into ``types``."""
    return bulk_json(queries.device_map(session, platform.clock.now()))


@router.get("/alarms/timeline", response_model=s.AlarmTimeline)
def alarm_timeline(
    session: SessionDep,
    platform: PlatformDep,
    _: AlarmReader,
    start: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    end: Annotated[IsoDateTime | None, Query(alias="to")] = None,
) -> Response:
    """Every alarm open at some moment between ``from`` and ``to`` (default: the last 24 hours), with the event
    times it was raised and cleared: the centre's time slider replays the day from it."""
    offset = platform.settings.utc_offset_hours
    until = aware(end, offset) or platform.clock.now()
    since = aware(start, offset) or until - timedelta(hours=24)
    if since > until:
        raise UrbanBrainError("request.invalid", summary="from > to (from 晚于 to)")
    return bulk_json({"items": queries.alarm_timeline(session, since, until, TIMELINE_LIMIT)})


TIMELINE_LIMIT = 20_000  # a day of a district's alarms; an alarm storm beyond it shows its first 20,000


@router.get("/alarms", response_model=Page[s.AlarmPublic])
def list_alarms(
    session: SessionDep,
    _: AlarmReader,
    page: PageDep,
    status: str | None = None,
    open_only: bool = Query(False, alias="open"),
    level: s.Level | None = None,
    building: str | None = None,
    community: str | None = None,
    origin: str | None = None,
) -> dict[str, Any]:
    stmt = queries.alarms_stmt(status=status, open_only=open_only, level=level, building=building,
                               community=community, origin=origin)  # fmt: skip
    return paged(session, stmt, page, Alarm.id.desc()).map(_alarm_public)


@router.get("/alarms/{alarm_id}", response_model=s.AlarmPublic)
def get_alarm(alarm_id: Id, session: SessionDep, _: AlarmReader) -> s.AlarmPublic:
    return _alarm_public(actions._alarm(session, alarm_id))


@router.post("/alarms/{alarm_id}/acknowledge", response_model=s.AlarmPublic)
def acknowledge_alarm(
    alarm_id: Id, data: s.AlarmAction, session: SessionDep, platform: PlatformDep, actor: AlarmHandler
) -> s.AlarmPublic:
    alarm = actions.do_acknowledge_alarm(session, platform, actor, alarm_id, data.note)
    return _alarm_public(alarm)


@router.post("/alarms/{alarm_id}/clear", response_model=s.AlarmPublic)
def clear_alarm(
    alarm_id: Id, data: s.AlarmAction, session: SessionDep, platform: PlatformDep, actor: AlarmHandler
) -> s.AlarmPublic:
    alarm = actions.do_clear_alarm(session, platform, actor, alarm_id, data.note)
    return _alarm_public(alarm)


@router.get("/dead-letters", response_model=Page[s.DeadLetterPublic])
def list_dead_letters(
    session: SessionDep,
    _: Installer,
    page: PageDep,
    reason: str | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    p = paged(session, queries.dead_letters_stmt(reason=reason, device=device), page, DeadLetter.id.desc())
    return p.map(lambda d: s.DeadLetterPublic.model_validate(d, from_attributes=True))


@router.get("/statistics", response_model=s.AlarmCounts)
def statistics(session: SessionDep, _: AlarmReader) -> dict[str, Any]:
    return queries.alarm_counts(session)
