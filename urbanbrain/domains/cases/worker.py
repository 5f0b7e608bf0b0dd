"""The SLA sweep, every ``worker_seconds``: warn at 80% and flag a breach at 100% of each case's time limit."""

from __future__ import annotations

from urbanbrain.core.context import Platform
from urbanbrain.core.loops import BackgroundLoop
from urbanbrain.domains.cases.actions import sla_sweep


class SlaWorker(BackgroundLoop):
    def __init__(self, platform: Platform, period: float) -> None:
        def sweep() -> None:
            with platform.db.session() as session:
                sla_sweep(session, platform)

        super().__init__("cases-sla", sweep, period)
