"""The demo district's data catalog: the platform's own datasets (registry, cases, alarms, readings) published
by their owner departments, once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.datahub import actions, queries
from urbanbrain.domains.datahub.catalog import builtin


def publish_catalog(session: Session, platform: Platform) -> list[str]:
    """Publish each built-in dataset that is not in the catalog yet; returns the codes published."""
    published = []
    for body in builtin():
        try:
            queries.get_dataset(session, body.code)
            continue
        except UrbanBrainError:
            pass
        actions.do_publish_dataset(session, platform, SYSTEM, body)
        published.append(body.code)
    return published
