"""``/api/v1/auth``: the OAuth2 password flow, the current user, staff accounts and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select

from urbanbrain.api.deps import CurrentPrincipal, PlatformDep, SessionDep, require
from urbanbrain.api.errors import error_response, responses
from urbanbrain.api.params import Id
from urbanbrain.core.auth import tokens
from urbanbrain.core.auth.actions import authenticate, do_create_api_key, do_create_user, do_revoke_api_key
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.auth.roles import ROLES
from urbanbrain.core.auth.throttle import throttle_of
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.models import ApiKey, User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MePublic(BaseModel):
    kind: str
    name: str
    role: str
    role_name: dict[str, str]
    scope: str
    department_id: int | None
    area_code: str | None
    permissions: list[str]


class RolePublic(BaseModel):
    code: str
    name: dict[str, str] = Field(description="The role's name in zh-CN and en.")
    scope: str = Field(description="Which rows it sees: all, department, street or community.")
    permissions: list[str]


class UserCreate(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=1, max_length=256)
    role: str
    full_name: str = ""
    department_code: str | None = None
    area_code: str | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    department_id: int | None
    area_code: str | None
    active: bool


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str]
    department_code: str | None = None


class ApiKeyPublic(BaseModel):
    id: int
    prefix: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The full key. It is shown this once and cannot be recovered.")


@router.post(
    "/token",
    response_model=TokenPublic,
    responses=responses(
        429,
        503,
        said={
            429: "Too many failed logins for this name or address (`auth.too_many_attempts`)",
            503: "Too many logins at once (`auth.busy`)",
        },
    ),
)
def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    platform: PlatformDep,
    session: SessionDep,
) -> Any:
    """OAuth2 password flow: exchange a username and password for a bearer token (JWT). After 5 failed logins
    for one name (30 from one address) in 15 minutes, further tries get 429 with Retry-After."""
    guard = throttle_of(platform)
    address = request.client.host if request.client else "unknown"
    try:
        guard.check(form.username, address)  # before any Argon2 work: a flood of guesses costs nothing
        with guard.verifying():
            user = authenticate(session, form.username, form.password)
    except UrbanBrainError as err:
        if err.code == "auth.bad_credentials":
            guard.failed(form.username, address)
        if "retry_after" in err.params:
            return error_response(request, err, headers={"Retry-After": str(err.params["retry_after"])})
        raise
    guard.succeeded(form.username)
    minutes = platform.settings.token_minutes
    access = tokens.issue_token(
        platform.settings.signing_key,
        user_id=user.id,
        username=user.username,
        now=platform.clock.now(),
        minutes=minutes,
    )
    return TokenPublic(access_token=access, expires_in=minutes * 60)


@router.get("/me", response_model=MePublic)
def me(principal: CurrentPrincipal):
    role = ROLES.get(principal.role)
    return MePublic(
        kind=principal.kind,
        name=principal.name,
        role=principal.role,
        role_name={"zh-CN": role.name_zh, "en": role.name_en}
        if role
        else {"zh-CN": "API 密钥", "en": "API key"},
        scope=principal.scope,
        department_id=principal.department_id,
        area_code=principal.area_code,
        permissions=sorted(principal.permissions),
    )


@router.get("/roles", response_model=list[RolePublic])
def roles(principal: CurrentPrincipal) -> list[RolePublic]:
    return [
        RolePublic(
            code=r.code,
            name={"zh-CN": r.name_zh, "en": r.name_en},
            scope=r.scope,
            permissions=sorted(r.permissions),
        )
        for r in ROLES.values()
    ]


@router.get("/users", response_model=list[UserPublic])
def list_users(session: SessionDep, principal: Annotated[Principal, require("core.users.manage")]):
    return [
        UserPublic.model_validate(u, from_attributes=True)
        for u in session.scalars(select(User).order_by(User.id))
    ]


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(
    body: UserCreate,
    platform: PlatformDep,
    session: SessionDep,
    principal: Annotated[Principal, require("core.users.manage")],
):
    user = do_create_user(session, platform.clock, principal, **body.model_dump())
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/api-keys", response_model=list[ApiKeyPublic])
def list_keys(session: SessionDep, principal: Annotated[Principal, require("core.api_keys.manage")]):
    return [ApiKeyPublic.model_validate(k, from_attributes=True) for k in session.scalars(select(ApiKey))]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_key(
    body: ApiKeyCreate,
    platform: PlatformDep,
    session: SessionDep,
    principal: Annotated[Principal, require("core.api_keys.manage")],
):
    key, full = do_create_api_key(session, platform.clock, principal, **body.model_dump())
    return ApiKeyCreated(key=full, **ApiKeyPublic.model_validate(key, from_attributes=True).model_dump())


@router.delete("/api-keys/{key_id}", response_model=ApiKeyPublic)
def revoke_key(
    key_id: Id,
    platform: PlatformDep,
    session: SessionDep,
    principal: Annotated[Principal, require("core.api_keys.manage")],
):
    return ApiKeyPublic.model_validate(
        do_revoke_api_key(session, platform.clock, principal, key_id), from_attributes=True
    )
