"""What the data hub hears on the bus: every change of a case, an alarm or a registry record queues that
record for the district lake (``LakePending``, in the consumer's own transaction); the lake's drain lands
them (``lake/landing.py``), every two seconds when background work is on."""

from __future__ import annotations

from sqlalchemy.orm import Session

from urbanbrain.core.bus import Event
from urbanbrain.core.bus.consumers import idempotent
from urbanbrain.core.context import Platform
from urbanbrain.domains.datahub.lake import landing

# One durable consumer per pattern (a JetStream consumer filters one subject).
SUBSCRIPTIONS = {
    "cases.case.*": "datahub.lake.cases",
    "sensing.alarm.*": "datahub.lake.alarms",
    "registry.>": "datahub.lake.registry",
}


def record_changed(session: Session, event: Event, platform: Platform) -> None:
    """Queue the records ``event`` says changed."""
    landing.queue(session, platform.clock.now(), landing.records_of(event))


def _lands(event: Event) -> bool:
    return bool(landing.records_of(event))


def subscribe(platform: Platform) -> None:
    for pattern, consumer in SUBSCRIPTIONS.items():
        handler = idempotent(
            platform.db, platform.clock, consumer, lambda s, e: record_changed(s, e, platform)
        )
        platform.bus.subscribe(pattern, consumer, handler, accept=_lands)
    if platform.settings.worker_seconds > 0:
        landing.landing(platform).start()
