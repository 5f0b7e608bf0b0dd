"""Photos on cases: type checked by content (not by the name the client sent), size limited, stored under
the data directory by content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.orm import Session

from urbanbrain.core.actions import record
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.cases.models import Case, CasePhoto

MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"RIFF", "image/webp", "webp"),  # confirmed below by the WEBP tag at offset 8
)

register_messages(
    {
        "cases.photo_type": (
            415,
            "照片格式不支持：只接受 JPEG、PNG 或 WebP。",
            "Unsupported photo: send JPEG, PNG or WebP.",
        ),
        "cases.photo_too_large": (
            413,
            "照片过大：最大 {max_mb} MB。",
            "The photo is too large: at most {max_mb} MB.",
        ),
        "cases.photo_empty": (422, "照片文件为空。", "The photo file is empty."),
    }
)


def sniff(data: bytes) -> tuple[str, str]:
    for magic, content_type, ext in SIGNATURES:
        if data.startswith(magic) and (ext != "webp" or data[8:12] == b"WEBP"):
            return content_type, ext
    raise UrbanBrainError("cases.photo_type")


def do_attach_photo(
    session: Session,
    platform: Platform,
    actor: Principal,
    case: Case,
    data: bytes,
    history_id: int | None = None,
) -> CasePhoto:
    if not data:
        raise UrbanBrainError("cases.photo_empty")
    if len(data) > MAX_BYTES:
        raise UrbanBrainError("cases.photo_too_large", max_mb=MAX_BYTES // (1024 * 1024))
    content_type, ext = sniff(data)
    digest = hashlib.sha256(data).hexdigest()
    relative = Path("photos") / str(case.id) / f"{digest}.{ext}"
    path = platform.settings.data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a photo
    photo = CasePhoto(
        case_id=case.id,
        history_id=history_id,
        path=str(relative),
        content_type=content_type,
        size=len(data),
        sha256=digest,
        uploaded_at=platform.clock.now(),
        uploaded_by=actor.actor,
    )
    session.add(photo)
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="cases.photo.attach",
        entity_type="case",
        entity_id=case.id,
        before=None,
        after={"photo_id": photo.id, "sha256": digest, "size": len(data)},
    )
    return photo


def photo_path(platform: Platform, photo: CasePhoto) -> Path:
    return platform.settings.data_dir / photo.path
