"""Writes on users and API keys, each audited; and the two ways in (password, API key)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.core.actions import record, snapshot
from urbanbrain.core.auth import passwords, tokens
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.auth.roles import API_KEY_SCOPES, ROLES
from urbanbrain.core.clock import Clock
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.models import ApiKey, Department, User


def principal_for_user(user: User, session: Session | None = None) -> Principal:
    role = ROLES[user.role]
    dept = session.get(Department, user.department_id) if session is not None and user.department_id else None
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=role.code,
        scope=role.scope,
        permissions=role.permissions,
        department_id=user.department_id,
        area_code=user.area_code,
        department_code=dept.code if dept else None,
    )


def principal_for_key(key: ApiKey) -> Principal:
    perms: set[str] = set()
    for scope in key.scopes:
        perms |= API_KEY_SCOPES.get(scope, frozenset())
    return Principal(
        kind="api_key",
        id=key.id,
        name=key.name,
        role="api_key",
        scope="all",
        permissions=frozenset(perms),
        department_id=key.department_id,
    )


def do_create_user(
    session: Session,
    clock: Clock,
    actor: Principal,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    department_code: str | None = None,
    area_code: str | None = None,
) -> User:
    if role not in ROLES:
        raise UrbanBrainError("auth.unknown_role", role=role)
    if len(password) < passwords.MIN_LENGTH:
        raise UrbanBrainError("auth.weak_password", min=passwords.MIN_LENGTH)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UrbanBrainError("conflict", what=f"username {username}")
    scope = ROLES[role].scope
    department_id = None
    if department_code:
        dept = session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            raise UrbanBrainError("not_found", what=f"department {department_code}")
        department_id = dept.id
        if area_code is None and scope in ("street", "community"):
            area_code = dept.area_code
    if scope == "department" and department_id is None:
        raise UrbanBrainError("auth.scope_required", role=role, what="department")
    if scope in ("street", "community") and not area_code:
        raise UrbanBrainError("auth.scope_required", role=role, what=f"{scope} area_code")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=passwords.hash_password(password),
        role=role,
        department_id=department_id,
        area_code=area_code,
        active=True,
        created_at=clock.now(),
        version=1,
    )
    session.add(user)
    session.flush()
    after = snapshot(user, protected=("password_hash",))
    record(
        session,
        clock,
        actor,
        action="core.user.create",
        entity_type="user",
        entity_id=user.id,
        before=None,
        after=after,
        event=None,
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    # Verify against a dummy hash when the user is unknown, so timing does not reveal which names exist.
    stored = user.password_hash if user else _DUMMY_HASH
    ok = passwords.verify_password(stored, password)
    if user is None or not ok:
        raise UrbanBrainError("auth.bad_credentials")
    if not user.active:
        raise UrbanBrainError("auth.user_inactive")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


_DUMMY_HASH = passwords.hash_password("not a real password, only for timing")


def do_create_api_key(
    session: Session,
    clock: Clock,
    actor: Principal,
    *,
    name: str,
    scopes: list[str],
    department_code: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the full secret is returned once and never stored."""
    unknown = [s for s in scopes if s not in API_KEY_SCOPES]
    if unknown or not scopes:
        raise UrbanBrainError(
            "request.invalid", summary=f"scopes must be among {sorted(API_KEY_SCOPES)}, got {scopes}"
        )
    department_id = None
    if department_code:
        dept = session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            raise UrbanBrainError("not_found", what=f"department {department_code}")
        department_id = dept.id
    full, prefix, secret_hash = tokens.new_api_key()
    key = ApiKey(
        prefix=prefix,
        secret_hash=secret_hash,
        name=name,
        scopes=scopes,
        department_id=department_id,
        created_at=clock.now(),
    )
    session.add(key)
    session.flush()
    record(
        session,
        clock,
        actor,
        action="core.api_key.create",
        entity_type="api_key",
        entity_id=key.id,
        before=None,
        after=snapshot(key, protected=("secret_hash",)),
    )
    return key, full


def do_revoke_api_key(session: Session, clock: Clock, actor: Principal, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise UrbanBrainError("not_found", what=f"API key {key_id}")
    before = snapshot(key, protected=("secret_hash",))
    key.revoked_at = clock.now()
    record(
        session,
        clock,
        actor,
        action="core.api_key.revoke",
        entity_type="api_key",
        entity_id=key.id,
        before=before,
        after=snapshot(key, protected=("secret_hash",)),
    )
    return key


def find_api_key(session: Session, full_key: str) -> ApiKey:
    parts = tokens.split_api_key(full_key)
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[0])) if parts else None
    if (
        key is None
        or parts is None
        or key.revoked_at is not None
        or not tokens.secret_matches(key.secret_hash, parts[1])
    ):
        raise UrbanBrainError("auth.api_key_invalid")
    return key
