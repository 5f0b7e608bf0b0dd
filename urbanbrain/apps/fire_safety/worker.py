"""The overdue sweep of a server, every ``worker_seconds``: hazards past their deadline are marked overdue."""

from __future__ import annotations

from urbanbrain.apps.fire_safety.actions import overdue_sweep
from urbanbrain.core.context import Platform
from urbanbrain.core.loops import BackgroundLoop


class OverdueWorker(BackgroundLoop):
    def __init__(self, platform: Platform, period: float) -> None:
        def sweep() -> None:
            with platform.db.session() as session:
                overdue_sweep(session, platform)

        super().__init__("fire-safety-overdue", sweep, period)
