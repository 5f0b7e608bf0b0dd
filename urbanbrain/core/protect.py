"""Protected personal data (ID numbers, phones): encrypted at rest, searchable by a keyed hash, masked on
display for every role without ``registry.pii.read``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "protect.wrong_key": (
            500,
            "受保护字段无法解密：服务器的 URBANBRAIN_PII_KEY 与加密时所用密钥不同。请管理员恢复原密钥。",
            "A protected field cannot be decrypted: the server's URBANBRAIN_PII_KEY differs from the key it "
            "was sealed with. The administrator must restore the original key.",
        ),
    }
)


class Protector:
    """AES-256-GCM for the value, HMAC-SHA256 (with a derived key) as a blind index for exact search."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the protection key must be 32 bytes")
        self._aead = AESGCM(key)
        self._index_key = hmac.new(key, b"urbanbrain blind index", hashlib.sha256).digest()

    def seal(self, plaintext: str | None) -> str | None:
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plaintext.encode(), None)).decode()

    def open(self, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        raw = base64.b64decode(sealed)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], None).decode()
        except InvalidTag:
            raise UrbanBrainError("protect.wrong_key") from None

    def index(self, plaintext: str | None) -> str | None:
        if plaintext is None:
            return None
        return hmac.new(self._index_key, plaintext.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str | None) -> str | None:
    """440304199001011234 -> 4403**********1234 (the region and last four stay, as on Chinese receipts)."""
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """13812345678 -> 138****5678."""
    if not value:
        return value
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str | None:
    """张三丰 -> 张**."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)
