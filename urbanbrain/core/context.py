"""The platform context: the one object that holds settings, database, clock, bus and keys.

Built once by the app factory or the CLI and handed to actions explicitly, so tests build their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from urbanbrain.core.bus import Bus, bus_from_url
from urbanbrain.core.bus.outbox import OutboxRelay
from urbanbrain.core.clock import Clock, clock_from_spec
from urbanbrain.core.config import Settings
from urbanbrain.core.db import Database
from urbanbrain.core.metrics import Metrics
from urbanbrain.core.protect import Protector


@dataclass
class Platform:
    settings: Settings
    db: Database
    clock: Clock
    bus: Bus
    relay: OutboxRelay
    protector: Protector
    metrics: Metrics = field(default_factory=Metrics)
    # Per-domain caches (e.g. the registry's spatial index); a domain owns its own key.
    caches: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None, bus: Bus | None = None) -> Platform:
        settings.ensure_data_dir()
        db = Database(settings.resolved_database_url)
        clock = clock or clock_from_spec(settings.clock)
        bus = bus or bus_from_url(settings.bus_url)
        relay = OutboxRelay(db, bus, clock)
        return cls(settings, db, clock, bus, relay, Protector(settings.protection_key))

    def close(self) -> None:
        for cached in list(self.caches.values()):  # a domain's own threads (cases intake), the live feed
            stop = getattr(cached, "stop", None) or getattr(cached, "close", None)
            if callable(stop):
                stop()
        self.relay.stop()
        self.bus.close()
        self.db.dispose()
