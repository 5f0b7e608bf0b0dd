"""Photos on cases (checked and stored by :mod:`urbanbrain.core.photos`), each tied to the case and to the
step of its history it shows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from urbanbrain.core import photos as core_photos
from urbanbrain.core.actions import record
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.domains.cases.models import Case, CasePhoto


def do_attach_photo(
    session: Session,
    platform: Platform,
    actor: Principal,
    case: Case,
    data: bytes,
    history_id: int | None = None,
) -> CasePhoto:
    stored = core_photos.store(platform.settings.data_dir, Path("photos") / str(case.id), data)
    photo = CasePhoto(
        case_id=case.id,
        history_id=history_id,
        path=stored.path,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
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
        after={"photo_id": photo.id, "sha256": stored.sha256, "size": stored.size},
    )
    return photo


def photo_path(platform: Platform, photo: CasePhoto) -> Path:
    return platform.settings.data_dir / photo.path
