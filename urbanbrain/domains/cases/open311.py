"""Open311 GeoReport v2 at ``/open311/v2/``: discovery, services (the taxonomy's minor classes), service
definitions, posting a request (an API key with the ``open311`` scope), tokens, the public request list and
single requests, and the service request updates extension (``/servicerequestupdates.{format}``, also at
``/requests/updates.{format}``). Every resource answers in ``.json`` and ``.xml``.

Every error on these routes comes out in the spec's shape (``[{"code", "description"}]`` or
``<errors><error>``): parameters are read and checked here rather than by FastAPI, and platform errors keep
their sentence with the status mapped to the spec's (422 -> 400, an invalid key -> 403).

Extensions beyond the spec: ``page`` and ``page_size`` (at most 1,000) on the lists; ``service_request_id``
on the updates list; a service request's token is accepted wherever its ``service_request_id`` is.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from urbanbrain.api.deps import language
from urbanbrain.api.errors import allowed_methods
from urbanbrain.core import photos as core_photos
from urbanbrain.core.auth.actions import find_api_key, principal_for_key
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.models import Department
from urbanbrain.domains.cases import actions, intake, lifecycle, photos
from urbanbrain.domains.cases.models import Case, CaseHistory
from urbanbrain.domains.cases.open311_format import (
    ERRORS,
    FORMATS,
    MAX_RESULTS,
    MEDIA_TYPES,
    Ctx,
    Open311Created,
    Open311Discovery,
    Open311Request,
    Open311Service,
    Open311ServiceDefinition,
    Open311Token,
    Open311Update,
    answers,
    error,
    invalid,
    openapi_params,
    render,
    spec_status,
    w3,
)
from urbanbrain.domains.cases.schemas import CaseReport
from urbanbrain.domains.cases.taxonomy import Minor
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.domains.registry import queries as registry

log = logging.getLogger("urbanbrain.open311")
AUTO = "auto"  # the service that asks the classifier

router = APIRouter(tags=["open311"], responses=ERRORS)
# Read as any text so that an unknown one is refused in the spec's shape; documented as the two there are.
Fmt = Annotated[str, Path(description="The answer's format.", json_schema_extra={"enum": sorted(FORMATS)})]

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2025-01-01T00:00:00+08:00"  # when this endpoint's description last changed
ATTRIBUTES = ("facility_code",)  # attribute[...] codes accepted on POST
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,24}$")
_STEPS = {"report": ("上报", "Reported"), "note": ("进展说明", "Progress note")}


def _respond(
    request: Request, fmt: str, root: str, ctx: Ctx, work: Callable[[Session, Ctx], Any]
) -> Response:
    """Run ``work`` in one transaction and render its result; every failure in the spec's error shape."""
    fmt = fmt.lower()
    try:
        _check_request(ctx, fmt)
        with ctx.platform.db.session() as session:
            data = work(session, ctx)
        return render(data, fmt, root)
    except Exception as exc:
        return _failure(request, fmt, exc)


def _check_request(ctx: Ctx, fmt: str) -> None:
    if fmt not in FORMATS:
        raise UrbanBrainError("open311.unknown_format", fmt=fmt)
    given, expected = ctx.one("jurisdiction_id"), ctx.platform.settings.district_code
    if given is not None and given != expected:
        raise UrbanBrainError("open311.jurisdiction", given=given, expected=expected)


def _failure(request: Request, fmt: str, exc: Exception) -> Response:
    """An exception as the spec's error document: platform errors keep their sentence; anything else is
    logged with a reference and answered 500 without details."""
    lang = language(request)
    if isinstance(exc, UrbanBrainError):
        return error(spec_status(exc), exc.render(lang), fmt)
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first.get("loc", ())) or "request"
        return error(
            400, invalid(name, str(first.get("msg", "")), str(first.get("msg", ""))).render(lang), fmt
        )
    ref = uuid.uuid4().hex[:12]
    log.error("open311 error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
    return error(500, UrbanBrainError("internal", ref=ref).render(lang), fmt)


def _get(request: Request, fmt: str, root: str, work: Callable[[Session, Ctx], Any]) -> Response:
    values: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        values.setdefault(key, []).append(value)
    url = str(request.url.replace(query=""))
    return _respond(request, fmt, root, Ctx(request.app.state.platform, values, url=url), work)


def _notice(minor: Minor | None) -> str | None:
    """What the district commits to for this class: the time limit to resolve."""
    if minor is None:
        return None
    kind_zh, kind_en = ("日历", "calendar") if minor.calendar == "calendar" else ("工作", "working")
    return f"按时限 {minor.resolve_hours:g} 小时（{kind_zh}时间）内处置 / To be resolved within {minor.resolve_hours:g} {kind_en} hours"


def _departments(session: Session) -> dict[str, Department]:
    return {d.code: d for d in session.scalars(select(Department))}


# --- discovery and services ----------------------------------------------------------------------------


def _discovery(session: Session, ctx: Ctx) -> dict[str, Any]:
    centre = _departments(session).get(actions.CENTRE)
    contact = (
        f"{centre.name} {centre.phone or ''}".strip()
        if centre
        else "城区大脑指挥中心 / District command centre"
    )
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": "API 密钥（权限范围 open311）由系统管理员签发：POST /api/v1/auth/api-keys / "
        "API keys with the open311 scope are issued by the administrator (POST /api/v1/auth/api-keys)",
        "endpoints": [
            {
                "specification": SPEC,
                "url": ctx.url.rsplit("/discovery", 1)[0],
                "changeset": CHANGESET,
                "type": "production",
                "formats": MEDIA_TYPES,
            }
        ],
    }


def _services(session: Session, ctx: Ctx) -> list[dict[str, Any]]:
    depts = _departments(session)
    out = []
    for major in taxonomy().majors:
        for m in major.minors:
            dept = depts.get(m.department)
            by = f"{dept.name} ({dept.name_en})" if dept else m.department
            out.append(
                {
                    "service_code": m.code,
                    "service_name": m.name,
                    "description": f"{m.name_en}. 承办 / Handled by: {by}",
                    "metadata": bool(m.facility_kinds),
                    "type": "realtime",
                    "keywords": ", ".join([m.name, m.name_en, major.name, major.name_en, *m.facility_kinds]),
                    "group": major.name,
                }
            )
    out.append(
        {
            "service_code": AUTO,
            "service_name": "其他问题（自动分类）",
            "description": "Not sure which service? Describe the problem: it is classified automatically, "
            "and a person sorts it when the classifier is unsure.",
            "metadata": False,
            "type": "realtime",
            "keywords": "其他, other, auto",
            "group": "其他",
        }
    )
    return out


def _definition(code: str) -> Callable[[Session, Ctx], dict[str, Any]]:
    def work(session: Session, ctx: Ctx) -> dict[str, Any]:
        if code == AUTO:
            return {"service_code": AUTO, "attributes": []}
        minor = taxonomy().minors.get(code)
        if minor is None:
            raise UrbanBrainError("open311.unknown_service", code=code)
        attributes = []
        if minor.facility_kinds:
            attributes.append(
                {
                    "variable": True,
                    "code": "facility_code",
                    "datatype": "string",
                    "required": False,
                    "datatype_description": "设施二维码标牌上的编号；提供后可不填经纬度 / The code on the "
                    f"facility's QR label ({', '.join(minor.facility_kinds)}); it locates the request",
                    "order": 1,
                    "description": "设施二维码编号",
                    "values": [],
                }
            )
        return {"service_code": minor.code, "attributes": attributes}

    return work


# --- service requests ----------------------------------------------------------------------------------


def _latest_notes(session: Session, ids: list[int]) -> dict[int, str]:
    """Each case's latest public history note (the automatic dispatcher's routing notes are internal)."""
    notes: dict[int, str] = {}
    if ids:
        rows = session.execute(
            select(CaseHistory.case_id, CaseHistory.note)
            .where(
                CaseHistory.case_id.in_(ids),
                CaseHistory.public.is_(True),
                CaseHistory.note.is_not(None),
                CaseHistory.actor != actions.DISPATCHER.actor,
            )
            .order_by(CaseHistory.id)
        )
        for case_id, note in rows:
            if (note or "").strip():
                notes[case_id] = (note or "").strip()
    return notes


def _request_objects(session: Session, ctx: Ctx, cases: list[Case]) -> list[dict[str, Any]]:
    """The spec's service request objects. The reporter's name and contact are never shown."""
    depts, notes = _departments(session), _latest_notes(session, [c.id for c in cases])
    names, minors = registry.area_names(ctx.platform, session), taxonomy().minors
    out = []
    for c in cases:
        state, minor = lifecycle.STATES[c.state], minors.get(c.category_code or "")
        note = notes.get(c.id)
        dept = depts.get(c.department_code or "")
        area = "".join(names.get(code or "", "") for code in (c.street_code, c.community_code))
        out.append(
            {
                "service_request_id": c.number,
                "status": state.group,
                "status_notes": f"{state.zh} / {state.en}" + (f"：{note}" if note else ""),
                "service_name": minor.name if minor else None,
                "service_code": c.category_code,
                "description": c.description,
                "agency_responsible": dept.name if dept else None,
                "service_notice": _notice(minor),
                "requested_datetime": w3(c.reported_at, ctx.offset),
                "updated_datetime": w3(c.updated_at, ctx.offset),
                "expected_datetime": w3(c.resolve_due_at, ctx.offset),
                "address": c.address or area or None,
                "address_id": None,
                "zipcode": None,
                "lat": c.lat,
                "long": c.lon,
                "media_url": c.media_url,
            }
        )
    return out


def _by_ref(refs: list[str]) -> Any:
    return or_(Case.number.in_(refs), Case.token.in_(refs))


def _list_requests(session: Session, ctx: Ctx) -> list[dict[str, Any]]:
    offset, size = ctx.paging()
    stmt = select(Case).where(Case.number.is_not(None))
    refs = ctx.many("service_request_id")
    if refs:  # the spec: other filters are ignored
        if len(refs) > MAX_RESULTS:
            raise invalid("service_request_id", f"最多 {MAX_RESULTS} 个", f"at most {MAX_RESULTS} ids")
        stmt = stmt.where(_by_ref(refs))
    else:
        start, end = ctx.window()
        stmt = stmt.where(Case.reported_at >= start, Case.reported_at <= end)
        codes = ctx.many("service_code")
        unknown = [c for c in codes if c not in taxonomy().minors]
        if unknown:
            raise invalid("service_code", f"没有服务 {', '.join(unknown)}", f"unknown {', '.join(unknown)}")
        if codes:
            stmt = stmt.where(Case.category_code.in_(codes))
        statuses = set(ctx.many("status"))
        if statuses - {"open", "closed"}:
            raise invalid("status", "应为 open、closed 或 open,closed", "use open, closed or open,closed")
        if statuses == {"open"}:
            stmt = stmt.where(Case.state.in_(lifecycle.OPEN_STATES))
        elif statuses == {"closed"}:
            stmt = stmt.where(Case.state.not_in(lifecycle.OPEN_STATES))
    rows = session.scalars(stmt.order_by(Case.reported_at.desc(), Case.id.desc()).offset(offset).limit(size))
    return _request_objects(session, ctx, list(rows))


def _one_request(ref: str) -> Callable[[Session, Ctx], list[dict[str, Any]]]:
    def work(session: Session, ctx: Ctx) -> list[dict[str, Any]]:
        case = session.scalar(select(Case).where(Case.number.is_not(None), _by_ref([ref])))
        if case is None:
            raise UrbanBrainError("open311.request_not_found", ref=ref)
        return _request_objects(session, ctx, [case])

    return work


def _token(token: str) -> Callable[[Session, Ctx], list[dict[str, Any]]]:
    def work(session: Session, ctx: Ctx) -> list[dict[str, Any]]:
        case = session.scalar(select(Case).where(Case.token == token))
        if case is None:
            raise UrbanBrainError("open311.request_not_found", ref=f"token {token}")
        return [{"service_request_id": case.number, "token": case.token}]

    return work


def _updates(session: Session, ctx: Ctx) -> list[dict[str, Any]]:
    """Public history entries of registered requests, oldest first."""
    offset, size = ctx.paging()
    stmt = (
        select(CaseHistory, Case.number, Case.media_url)
        .join(Case, Case.id == CaseHistory.case_id)
        .where(CaseHistory.public.is_(True), Case.number.is_not(None))
    )
    refs = ctx.many("service_request_id")
    if refs:
        stmt = stmt.where(_by_ref(refs))
    else:
        start, end = ctx.window()
        stmt = stmt.where(CaseHistory.at >= start, CaseHistory.at <= end)
    rows = session.execute(stmt.order_by(CaseHistory.at, CaseHistory.id).offset(offset).limit(size))
    out = []
    for h, number, media in rows:
        t = lifecycle.TRANSITIONS.get(h.transition)
        zh, en = (t.zh, t.en) if t else _STEPS.get(h.transition, (h.transition, h.transition))
        state = lifecycle.STATES[h.to_state]
        note = (h.note or "").strip() if h.actor != actions.DISPATCHER.actor else ""
        text = f"{zh} / {en}（{state.zh} / {state.en}）" + (f"：{note}" if note else "")
        out.append(
            {
                "update_id": str(h.id),
                "service_request_id": number,
                "status": state.group,
                "updated_datetime": w3(h.at, ctx.offset),
                "description": text,
                "media_url": media if h.transition == "report" else None,
            }
        )
    return out


def _contact(ctx: Ctx) -> str | None:
    email, phone = ctx.one("email"), ctx.one("phone")
    if email and not _EMAIL.match(email):
        raise invalid("email", "不是电子邮件地址", "not an e-mail address")
    if phone and not _PHONE.match(phone):
        raise invalid("phone", "不是电话号码", "not a phone number")
    both = " / ".join(v for v in (phone, email) if v)
    return (both if len(both) <= 100 else phone or email) or None


def _coordinate(ctx: Ctx, name: str) -> float | None:
    text = ctx.one(name)
    if text is None:
        return None
    try:
        return float(text)  # NaN and infinities pass here; locating the case refuses them clearly
    except ValueError:
        raise invalid(name, "不是数字", "not a number") from None


def _filing(ctx: Ctx) -> intake.Filing:
    """POST a request: checks the fields here; the key is checked and the case filed by the intake queue,
    through the ordinary rules."""
    if not ctx.api_key:
        raise UrbanBrainError("open311.api_key_required")
    code = ctx.one("service_code")
    if code is None:
        raise UrbanBrainError("open311.missing", name="service_code")
    # "auto": the classifier picks the class from the description (a person does, when it is unsure).
    minor = None if code == AUTO else taxonomy().minor(code)
    if minor is None and not (ctx.one("description") or "").strip():
        raise UrbanBrainError("open311.missing", name="description")
    unknown = sorted(set(ctx.attributes) - set(ATTRIBUTES))
    if unknown:
        known = ", ".join(ATTRIBUTES)
        raise invalid(f"attribute[{unknown[0]}]", f"可用的属性：{known}", f"known attributes: {known}")
    facility = ctx.attributes.get("facility_code") or None
    lat, lon = _coordinate(ctx, "lat"), _coordinate(ctx, "long")
    if (lat is None) != (lon is None):
        raise UrbanBrainError("open311.missing", name="long" if lon is None else "lat")
    if lat is None and facility is None and not (ctx.one("address_string") or "").strip():
        raise UrbanBrainError("open311.location_required")  # words are enough: the registry places them
    first, last = ctx.one("first_name"), ctx.one("last_name")
    cjk = any(ord(ch) > 0x2E7F for ch in (first or "") + (last or ""))
    name = (f"{last or ''}{first or ''}" if cjk else " ".join(p for p in (first, last) if p)) or None
    report = CaseReport(
        source="hotline",
        category_code=minor.code if minor else None,
        description=ctx.one("description") or (minor.name if minor else ""),
        lon=lon,
        lat=lat,
        address=ctx.one("address_string"),
        facility_code=facility,
        media_url=ctx.one("media_url"),
        reporter_name=name,
        reporter_contact=_contact(ctx),
    )
    return intake.Filing(report, api_key=ctx.api_key)


def _created(filed: intake.Filed, ctx: Ctx) -> list[dict[str, Any]]:
    found = {"service_request_id": filed.number} if filed.number else {"token": filed.token}
    chosen = taxonomy().minors.get(filed.category_code or "")  # for "auto", the class the classifier chose
    notice = _notice(chosen)
    if filed.answer:  # a consultation answered at once: the answer is the notice
        notice = filed.answer
    if filed.call_now:  # an emergency: before anything else, call now
        notice = (
            f"紧急情况请立即拨打 {filed.call_now}！已同步通知区指挥中心。 / "
            f"This is an emergency: call {filed.call_now} now. The command centre has been told."
            + (f" {notice}" if notice else "")
        )
    return [{**found, "service_notice": notice, "account_id": ctx.one("account_id")}]


def intake_queue(platform: Platform) -> intake.IntakeQueue:
    """This process's intake writer (one per platform; its thread starts on first use)."""
    found = platform.caches.get(INTAKE_CACHE)
    if found is None:
        found = platform.caches.setdefault(INTAKE_CACHE, intake.IntakeQueue(platform))
    return found  # type: ignore[no-any-return]


INTAKE_CACHE = "cases.intake"


# --- routes --------------------------------------------------------------------------------------------


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def root(request: Request) -> RedirectResponse:
    """The bare prefix, where a newcomer looks first: on to the discovery document."""
    return RedirectResponse(request.url_for("discovery", fmt="json"), status_code=307)


LIST_PARAMS = openapi_params(
    "service_request_id", "service_code", "start_date", "end_date", "status", "page", "page_size"
)


@router.get("/discovery.{fmt}", **answers(Open311Discovery, "discovery"))
def discovery(request: Request, fmt: Fmt) -> Response:
    """Service discovery: the endpoint, its specification and formats."""
    return _get(request, fmt, "discovery", _discovery)


@router.get(
    "/services.{fmt}",
    openapi_extra=openapi_params("jurisdiction_id"),
    **answers(list[Open311Service], "services"),
)
def services(request: Request, fmt: Fmt) -> Response:
    """Every minor class of the taxonomy as a service; ``group`` is its major class."""
    return _get(request, fmt, "services", _services)


@router.get(
    "/services/{service_code}.{fmt}",
    openapi_extra=openapi_params("jurisdiction_id"),
    **answers(Open311ServiceDefinition, "service_definition"),
)
def service_definition(request: Request, service_code: str, fmt: Fmt) -> Response:
    """A service's attributes: classes about facilities take the facility's QR code."""
    return _get(request, fmt, "service_definition", _definition(service_code))


FORM_FIELDS = [
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
    "attribute[facility_code]",
]
FORM_SCHEMA = {"type": "object", "properties": {n: {"type": "string"} for n in FORM_FIELDS}}
# multipart may carry the reporter's photo as a file (``media``), kept with the case
MULTIPART_SCHEMA = {
    "type": "object",
    "properties": {**FORM_SCHEMA["properties"], "media": {"type": "string", "format": "binary"}},  # type: ignore[dict-item]
}
BODY_SCHEMAS = {"application/x-www-form-urlencoded": FORM_SCHEMA, "multipart/form-data": MULTIPART_SCHEMA}


@router.post(
    "/requests.{fmt}",
    openapi_extra={"requestBody": {"content": {t: {"schema": BODY_SCHEMAS[t]} for t in FORM_TYPES}}},
    **answers(list[Open311Created], "service_requests"),
)
async def post_request(request: Request, fmt: Fmt) -> Response:
    """Create a service request (form-encoded, with an API key of scope ``open311``)."""
    ctx = Ctx(request.app.state.platform, {}, api_key=request.headers.get("x-api-key"))
    for key, value in request.query_params.multi_items():
        ctx.values.setdefault(key, []).append(value)
    try:
        fields, media = await _form_fields(request)
    except UrbanBrainError as err:
        return error(spec_status(err), err.render(language(request)), fmt.lower())
    seen: set[str] = set()  # a form field replaces the same name in the query string
    for key, value in fields:
        if m := _ATTRIBUTE.match(key):
            ctx.attributes[m.group(1)] = value.strip()
            continue
        if key not in seen:
            seen.add(key)
            ctx.values[key] = []
        ctx.values[key].append(value)
    ctx.api_key = ctx.one("api_key") or ctx.api_key
    fmt = fmt.lower()
    try:
        _check_request(ctx, fmt)
        filed = await asyncio.wrap_future(intake_queue(ctx.platform).submit(_filing(ctx)))
        if media is not None:
            await asyncio.to_thread(_attach_media, ctx, filed, media)
        return render(_created(filed, ctx), fmt, "service_requests")
    except Exception as exc:
        return _failure(request, fmt, exc)


async def _form_fields(request: Request) -> tuple[list[tuple[str, str]], bytes | None]:
    """The form's text fields, and the photo of a multipart ``media`` file (checked before anything is
    filed: a photo that is not one refuses the request); other files are ignored."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not ctype:
        return [], None
    if ctype not in FORM_TYPES:
        raise UrbanBrainError("open311.form_required")
    try:
        form = await request.form(max_part_size=core_photos.MAX_BYTES + 1)
    except Exception:
        raise UrbanBrainError("open311.form_required") from None
    media = None
    upload = form.get("media")
    if upload is not None and not isinstance(upload, str):
        media = await upload.read(core_photos.MAX_BYTES + 1)
        if media:
            core_photos.check(media)  # JPEG, PNG or WebP, by its bytes, at most 10 MB
        else:
            media = None
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)], media


def _attach_media(ctx: Ctx, filed: intake.Filed, media: bytes) -> None:
    """The reporter's photo, kept with the case as the first photo of its report."""
    with ctx.platform.db.session() as session:
        case = session.get(Case, filed.id)
        assert case is not None and ctx.api_key is not None
        actor = principal_for_key(find_api_key(session, ctx.api_key))
        first = session.scalar(
            select(CaseHistory.id).where(CaseHistory.case_id == case.id).order_by(CaseHistory.id).limit(1)
        )
        photos.do_attach_photo(session, ctx.platform, actor, case, media, history_id=first)


@router.get("/requests.{fmt}", openapi_extra=LIST_PARAMS, **answers(list[Open311Request], "service_requests"))
def list_requests(request: Request, fmt: Fmt) -> Response:
    """Public request list: by default the last 90 days, newest first, at most 1,000 a page."""
    return _get(request, fmt, "service_requests", _list_requests)


UPDATE_PARAMS = openapi_params("start_date", "end_date", "service_request_id", "page", "page_size")


UPDATES = answers(list[Open311Update], "service_request_updates")


@router.get("/servicerequestupdates.{fmt}", openapi_extra=UPDATE_PARAMS, **UPDATES)
@router.get("/requests/updates.{fmt}", openapi_extra=UPDATE_PARAMS, **UPDATES)
def request_updates(request: Request, fmt: Fmt) -> Response:
    """The service request updates extension: each public step of each request, oldest first."""
    return _get(request, fmt, "service_request_updates", _updates)


@router.get("/requests/{service_request_id}.{fmt}", **answers(list[Open311Request], "service_requests"))
def get_request(request: Request, service_request_id: str, fmt: Fmt) -> Response:
    """One request (by its id, or its token), as a one-element list."""
    return _get(request, fmt, "service_requests", _one_request(service_request_id))


@router.get("/tokens/{token}.{fmt}", **answers(list[Open311Token], "service_requests"))
def get_token(request: Request, token: str, fmt: Fmt) -> Response:
    """The request id given for a token (null until the case is registered)."""
    return _get(request, fmt, "service_requests", _token(token))


# Every method, so that every refusal under /open311/v2 is in the spec's shape.
EVERY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


@router.api_route("/{rest:path}", methods=EVERY_METHOD, include_in_schema=False)
def not_found(request: Request, rest: str) -> Response:
    """Anything else under /open311/v2, in the spec's error shape."""
    fmt = "xml" if rest.lower().endswith(".xml") else "json"
    lang = language(request)
    if request.method not in ("GET", "POST"):
        refused = error(405, UrbanBrainError("open311.method", method=request.method).render(lang), fmt)
        # What the resource takes; a path no resource has is refused for GET and POST too (404).
        refused.headers["Allow"] = ", ".join(allowed_methods(request, skip=not_found) or ["GET", "POST"])
        return refused
    return error(404, UrbanBrainError("open311.no_route", path=request.url.path).render(lang), fmt)
