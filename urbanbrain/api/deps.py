"""Shared FastAPI dependencies: the platform, a session per request, the acting principal, the language."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from urbanbrain.core.auth import tokens
from urbanbrain.core.auth.actions import find_api_key, principal_for_key, principal_for_user
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.models import User

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_session(platform: PlatformDep) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back if it raises."""
    with platform.db.session() as session:
        yield session


# scope="function": the commit runs when the endpoint returns, before the answer is sent. By default FastAPI
# sends the answer first and commits after, so a client that reloaded at once could read the state before
# the change, and a commit that failed would follow a 200 (acknowledged, then lost).
SESSION = Depends(get_session, scope="function")
SessionDep = Annotated[Session, SESSION]


def _principal(request: Request, platform: Platform, session: Session, token: str | None) -> Principal | None:
    api_key = request.headers.get("x-api-key")
    if api_key:
        return principal_for_key(find_api_key(session, api_key))
    if not token:
        return None
    claims = tokens.read_token(platform.settings.signing_key, token, platform.clock.now())
    if claims is None:
        raise UrbanBrainError("auth.token_invalid")
    user = session.get(User, int(claims["sub"]))
    if user is None:
        raise UrbanBrainError("auth.token_invalid")
    if not user.active:
        raise UrbanBrainError("auth.user_inactive")
    return principal_for_user(user, session)


def current_principal(
    request: Request,
    platform: PlatformDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> Principal:
    principal = _principal(request, platform, session, token)
    if principal is None:
        raise UrbanBrainError("auth.required")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def principal_now(
    request: Request, platform: PlatformDep, token: Annotated[str | None, Depends(oauth2)]
) -> Principal:
    """The caller, read in a short session of its own: for endpoints that wait (for the journal, on a
    stream) and must not hold a transaction - on SQLite the write lock - while they do."""
    with platform.db.sessionmaker() as session:
        if platform.db.dialect == "sqlite":
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
        principal = _principal(request, platform, session, token)
    if principal is None:
        raise UrbanBrainError("auth.required")
    return principal


WaitingPrincipal = Annotated[Principal, Depends(principal_now)]


def require(permission: str):  # type: ignore[no-untyped-def]
    """Dependency factory: the principal, after checking one permission."""

    def dep(principal: CurrentPrincipal) -> Principal:
        principal.require(permission)
        return principal

    return Depends(dep)


def language(request: Request) -> str:
    accept = request.headers.get("accept-language", "")
    return "zh-CN" if accept.lower().startswith("zh") else "en"
