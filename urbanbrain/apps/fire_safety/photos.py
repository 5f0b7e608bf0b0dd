"""Photos of hazards: the grid worker's evidence of what was found and of the fix. Each photo is tied to
the hazard's latest step when it is sent (so a photo sent after reporting the rectification shows the
rectification), checked and stored by :mod:`urbanbrain.core.photos`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.apps.fire_safety import events
from urbanbrain.apps.fire_safety.models import Hazard, HazardHistory, HazardPhoto
from urbanbrain.core import photos as core_photos
from urbanbrain.core.actions import record
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages

MAX_PER_HAZARD = 20  # a phone's worth of evidence; more is a mistake (or an attack on the disk)

register_messages(
    {
        "fire_safety.photo_limit": (
            409,
            "该隐患的照片已达 {limit} 张上限。",
            "This hazard already has the most photos allowed ({limit}).",
        ),
        "fire_safety.photo_none": (
            422,
            "请附上至少一张照片（字段 files）。",
            "Attach at least one photo (field files).",
        ),
    }
)


def do_attach_photos(
    session: Session, platform: Platform, actor: Principal, hazard: Hazard, files: list[bytes]
) -> list[HazardPhoto]:
    """Keep ``files`` as photos of the hazard's latest step; all are checked before any is kept."""
    actor.require("fire_safety.inspections.write")
    if not files:
        raise UrbanBrainError("fire_safety.photo_none")
    for data in files:
        core_photos.check(data)
    held = len(session.scalars(select(HazardPhoto.id).where(HazardPhoto.hazard_id == hazard.id)).all())
    if held + len(files) > MAX_PER_HAZARD:
        raise UrbanBrainError("fire_safety.photo_limit", limit=MAX_PER_HAZARD)
    step = session.scalar(
        select(HazardHistory)
        .where(HazardHistory.hazard_id == hazard.id)
        .order_by(HazardHistory.id.desc())
        .limit(1)
    )
    assert step is not None  # a hazard is born with its "found" step
    now = platform.clock.now()
    kept = []
    for data in files:
        stored = core_photos.store(platform.settings.data_dir, Path("fire_safety") / str(hazard.id), data)
        photo = HazardPhoto(
            hazard_id=hazard.id,
            history_id=step.id,
            path=stored.path,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_at=now,
            uploaded_by=actor.actor,
        )
        session.add(photo)
        session.flush()
        kept.append(photo)
        record(
            session,
            platform.clock,
            actor,
            action="fire_safety.hazard.photograph",
            entity_type="fire_safety_hazard",
            entity_id=hazard.id,
            before=None,
            after={
                "photo_id": photo.id,
                "step": step.transition,
                "sha256": stored.sha256,
                "size": stored.size,
            },
            event=events.HAZARD_PHOTOGRAPHED,
            payload={"code": hazard.code, "photo_id": photo.id, "step": step.transition},
        )
    return kept


def photo_path(platform: Platform, photo: HazardPhoto) -> Path:
    return platform.settings.data_dir / photo.path
