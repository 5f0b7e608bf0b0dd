"""Every read of the data hub; ``lake(platform)`` is the district lake other plugins query through."""

from __future__ import annotations

import threading

from urbanbrain.core.context import Platform
from urbanbrain.domains.datahub.lake.store import DistrictLake

LAKE_KEY = "datahub.lake"
_lake_lock = threading.Lock()


def lake(platform: Platform) -> DistrictLake:
    """The platform's district lake under ``<data_dir>/lake``, opened once."""
    with _lake_lock:
        found = platform.caches.get(LAKE_KEY)
        if found is None:
            s = platform.settings
            found = platform.caches[LAKE_KEY] = DistrictLake(
                s.data_dir / "lake", utc_offset_hours=s.utc_offset_hours
            )
        return found  # type: ignore[no-any-return]
