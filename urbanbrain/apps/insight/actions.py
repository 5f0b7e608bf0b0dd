"""Decision support's one write: bringing the pre-aggregates up to date with the lake. They are derived
files, rebuilt from the lake at will, so the refresh writes no audit row and sends no event."""

from __future__ import annotations

from urbanbrain.apps.insight import aggregates
from urbanbrain.apps.insight.queries import lake_root, tables
from urbanbrain.core.context import Platform


def do_refresh_aggregates(platform: Platform) -> aggregates.Refresh:
    """Re-aggregate the lake partitions whose files changed since the last refresh, and load the new
    generation into memory here, so that no reader waits for it."""
    done = aggregates.refresh(lake_root(platform), utc_offset_hours=platform.settings.utc_offset_hours)
    tables(platform)
    return done
