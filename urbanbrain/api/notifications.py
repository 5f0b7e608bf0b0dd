"""``/api/v1/notifications``: your department's in-app inbox (operators read the command centre's), and the
subscriptions that send events to webhooks, e-mail addresses and phones."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from urbanbrain.api.deps import CurrentPrincipal, PlatformDep, SessionDep, require
from urbanbrain.api.params import Id
from urbanbrain.core import notify
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.models import Subscription
from urbanbrain.core.notify import inboxes

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
moved = APIRouter(tags=["notifications"])  # the paths these had under /api/v1/cases, kept as redirects
Manager = Annotated[Principal, require("core.subscriptions.write")]


class NotificationPublic(BaseModel):
    id: int
    kind: str = Field(description="The event that caused it, e.g. cases.case.dispatched.")
    title: str
    body: str
    subject_type: str | None = Field(description="What it is about: case, alarm, ...")
    subject_id: str | None
    case_id: int | None = Field(description="The case it is about, if it is about one.")
    created_at: datetime
    read: bool


class ReadPublic(BaseModel):
    id: int
    read: bool


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    channel: Literal["webhook", "email", "sms"] = "webhook"
    target: str = Field(min_length=3, max_length=500, description="URL, e-mail address or phone number.")
    events: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=lambda: ["cases.case.>"], min_length=1, max_length=50,
        description="Event patterns: '*' is one word, '>' the rest (cases.case.>, sensing.alarm.raised).",
    )  # fmt: skip
    department_code: str | None = Field(default=None, description="Only events about this department.")


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    channel: str
    target: str
    events: list[str]
    department_code: str | None
    active: bool
    secret: str | None = Field(default=None, description="Webhooks: the signing secret, shown once.")


def _recipient(principal: Principal) -> str:
    return principal.department_code or notify.CENTRE


@router.get("", response_model=list[NotificationPublic])
def list_notifications(
    session: SessionDep, principal: CurrentPrincipal, unread: bool = True
) -> list[NotificationPublic]:
    """The newest 100 rows of your department's inbox (unread only, unless ``unread=false``)."""
    rows = inboxes.rows_for(session, _recipient(principal), unread_only=unread)
    return [
        NotificationPublic(
            id=n.id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            subject_type=n.subject_type,
            subject_id=n.subject_id,
            case_id=int(n.subject_id) if n.subject_type == "case" and n.subject_id else None,
            created_at=n.created_at,
            read=n.read_at is not None,
        )  # fmt: skip
        for n in rows
    ]


@router.post("/{notification_id}/read", response_model=ReadPublic)
def read_notification(
    notification_id: Id, session: SessionDep, platform: PlatformDep, principal: CurrentPrincipal
) -> ReadPublic:
    row = notify.mark_read(session, platform.clock, _recipient(principal), notification_id)
    return ReadPublic(id=row.id, read=True)


@router.get("/subscriptions", response_model=list[SubscriptionPublic])
def list_subscriptions(session: SessionDep, principal: Manager) -> list[SubscriptionPublic]:
    return [
        SubscriptionPublic.model_validate(x).model_copy(update={"secret": None})
        for x in session.scalars(select(Subscription).order_by(Subscription.id))
    ]


@router.post("/subscriptions", response_model=SubscriptionPublic, status_code=201)
def add_subscription(
    body: SubscriptionCreate, session: SessionDep, platform: PlatformDep, principal: Manager
) -> SubscriptionPublic:
    """Subscribe a webhook (its deliveries are signed with the secret shown once here), an e-mail address or
    an SMS number to events."""
    sub = notify.do_add_subscription(session, platform, principal, **body.model_dump())
    return SubscriptionPublic.model_validate(sub)


def _moved(request: Request) -> RedirectResponse:
    """A permanent redirect (308 keeps the method and the body) from where these lived before."""
    path = request.url.path.replace("/api/v1/cases/notifications", "/api/v1/notifications", 1)
    path = path.replace("/api/v1/cases/subscriptions", "/api/v1/notifications/subscriptions", 1)
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(path + query, status_code=308)


moved.add_api_route("/api/v1/cases/notifications", _moved, methods=["GET"], include_in_schema=False)
moved.add_api_route(
    "/api/v1/cases/notifications/{notification_id}/read", _moved, methods=["POST"], include_in_schema=False
)
moved.add_api_route("/api/v1/cases/subscriptions", _moved, methods=["GET", "POST"], include_in_schema=False)
