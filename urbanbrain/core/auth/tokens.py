"""JWT access tokens (HS256) and API keys (``ub_<prefix>_<secret>``, only a hash kept)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt

ALGORITHM = "HS256"


def issue_token(signing_key: str, *, user_id: int, username: str, now: datetime, minutes: int) -> str:
    claims = {"sub": str(user_id), "name": username, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, signing_key, algorithm=ALGORITHM)


def read_token(signing_key: str, token: str, now: datetime) -> dict[str, Any] | None:
    """Claims if the token is genuine and unexpired at ``now`` (the injectable clock), else None."""
    try:
        claims = jwt.decode(
            token,
            signing_key,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("exp", 0) <= now.timestamp():
        return None
    return claims


def new_api_key() -> tuple[str, str, str]:
    """Return (full key to show once, prefix to look it up, hash to store)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"ub_{prefix}_{secret}", prefix, hash_secret(secret)


def hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is enough (a KDF would only slow every request).
    return hashlib.sha256(secret.encode()).hexdigest()


def split_api_key(key: str) -> tuple[str, str] | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "ub" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_secret(secret))
