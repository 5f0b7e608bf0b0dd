"""Photos as evidence (a case's progress, a fire hazard found and fixed): the type checked by the bytes
(not by the name or type the client sent), the size limited, stored under the data directory by content
hash so the same photo sent twice is kept once and a stored file never changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from urbanbrain.core.errors import UrbanBrainError, register_messages

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"RIFF", "image/webp", "webp"),  # confirmed below by the WEBP tag at offset 8
)
# For an endpoint's OpenAPI answer: a photo goes back in the type it was stored as.
CONTENT = {media: {"schema": {"type": "string", "format": "binary"}} for _, media, _ in SIGNATURES}

register_messages(
    {
        "photo.type": (
            415,
            "照片格式不支持：只接受 JPEG、PNG 或 WebP。",
            "Unsupported photo: send JPEG, PNG or WebP.",
        ),
        "photo.too_large": (
            413,
            "照片过大：最大 {max_mb} MB。",
            "The photo is too large: at most {max_mb} MB.",
        ),
        "photo.empty": (422, "照片文件为空。", "The photo file is empty."),
    }
)


@dataclass(frozen=True)
class Stored:
    path: str  # relative to the data directory
    content_type: str
    size: int
    sha256: str


def sniff(data: bytes) -> tuple[str, str]:
    """The content type and file extension of a photo, from its first bytes."""
    for magic, content_type, ext in SIGNATURES:
        if data.startswith(magic) and (ext != "webp" or data[8:12] == b"WEBP"):
            return content_type, ext
    raise UrbanBrainError("photo.type")


def check(data: bytes) -> tuple[str, str]:
    """Refuse an empty, oversized or non-photo file before anything is written."""
    if not data:
        raise UrbanBrainError("photo.empty")
    if len(data) > MAX_BYTES:
        raise UrbanBrainError("photo.too_large", max_mb=MAX_BYTES // (1024 * 1024))
    return sniff(data)


def store(data_dir: Path, folder: Path, data: bytes) -> Stored:
    """Check ``data`` and keep it at ``<data_dir>/<folder>/<sha256>.<ext>``."""
    content_type, ext = check(data)
    digest = hashlib.sha256(data).hexdigest()
    relative = folder / f"{digest}.{ext}"
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a photo
    return Stored(str(relative), content_type, len(data), digest)
