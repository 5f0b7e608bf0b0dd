"""Point → (street, community, grid cell), validated, from an in-process index built from the database.

The index is cached on the platform and rebuilt when areas change (``invalidate``), so every write and
query locates points without a database round trip, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.spatial_index import AreaIndex
from urbanbrain.domains.registry.models import Area

CACHE_KEY = "registry.lookup"
RECHECK_SECONDS = 5.0
_lock = threading.Lock()


@dataclass(frozen=True)
class Located:
    street_code: str | None
    community_code: str | None
    grid_code: str | None


NOWHERE = Located(None, None, None)


class AreaLookup:
    """Everything needed to place a point: the district outline and an index over the grid cells."""

    def __init__(
        self,
        district: BaseGeometry | None,
        cells: list[tuple[str, str | None, str | None, BaseGeometry]],
        names: dict[str, str],
    ) -> None:
        self.district = district
        if district is not None:
            shapely.prepare(district)
        self.cells = cells  # (grid code, community code, street code, geometry)
        self.names = names
        self.index = AreaIndex(list(range(len(cells))), [c[3] for c in cells]) if cells else None
        # One shared answer per cell, NOWHERE last so that the index's -1 ("none") maps to it directly.
        self._answers = [Located(street, community, grid) for grid, community, street, _ in cells] + [NOWHERE]

    @classmethod
    def from_session(cls, session: Session) -> AreaLookup:
        rows = session.execute(select(Area.code, Area.level, Area.parent_code, Area.geom, Area.name)).all()
        parent = {r.code: r.parent_code for r in rows}
        names = {r.code: r.name for r in rows}
        district = next((r.geom for r in rows if r.level == "district"), None)
        cells = []
        for r in sorted((r for r in rows if r.level == "grid_cell"), key=lambda r: r.code):
            community = r.parent_code
            street = parent.get(community) if community else None
            cells.append((r.code, community, street, r.geom))
        return cls(district, cells, names)

    def contains_district(self, lon: float, lat: float) -> bool:
        # intersects, not contains: a point on the outline is inside, as the cell index treats it.
        return self.district is None or bool(shapely.intersects_xy(self.district, lon, lat))

    def check(self, lon: float, lat: float) -> None:
        """Refuse NaN, out-of-range, swapped and out-of-district coordinates with a clear reason."""
        try:
            lon, lat = float(lon), float(lat)
        except (TypeError, ValueError):
            raise UrbanBrainError("geo.not_a_number", lon=lon, lat=lat) from None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise UrbanBrainError("geo.not_a_number", lon=lon, lat=lat)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            if (
                -90 <= lon <= 90
                and -180 <= lat <= 180
                and self.district is not None
                and self.contains_district(lat, lon)
            ):
                raise UrbanBrainError("geo.lat_lon_swapped", lon=lon, lat=lat)
            raise UrbanBrainError("geo.out_of_range")
        if not self.contains_district(lon, lat):
            if self.district is not None and self.contains_district(lat, lon):
                raise UrbanBrainError("geo.lat_lon_swapped", lon=lon, lat=lat)
            raise UrbanBrainError("geo.outside_district", lon=lon, lat=lat)

    def locate(self, lon: float, lat: float) -> Located:
        """The containing cell's codes; check() first if the input came from a user."""
        if self.index is None:
            return NOWHERE
        i = self.index.lookup(lon, lat)
        return self._answers[-1 if i is None else i]

    def locate_many(self, lons: np.ndarray, lats: np.ndarray) -> list[Located]:
        if self.index is None:
            return [NOWHERE] * len(lons)
        answers = self._answers
        return [
            answers[i]
            for i in self.index.lookup_many(np.asarray(lons, float), np.asarray(lats, float)).tolist()
        ]


def _stamp(session: Session) -> tuple[int, int]:
    """Changes whenever an area is added or edited (each edit bumps its version)."""
    count, versions = session.execute(
        select(func.count(Area.id), func.coalesce(func.sum(Area.version), 0))
    ).one()
    return int(count), int(versions)


def get_lookup(platform: Platform, session: Session) -> AreaLookup:
    """The cached lookup; rechecked against the database every few seconds, so that an area edited through
    another worker reaches this one without a restart."""
    now = time.monotonic()
    entry = platform.caches.get(CACHE_KEY)
    if entry is not None and now - entry[2] < RECHECK_SECONDS:
        return entry[0]  # type: ignore[no-any-return]
    with _lock:
        entry = platform.caches.get(CACHE_KEY)
        stamp = _stamp(session)
        if entry is None or entry[1] != stamp:
            entry = (AreaLookup.from_session(session), stamp, now)
        else:
            entry = (entry[0], stamp, now)
        platform.caches[CACHE_KEY] = entry
    return entry[0]  # type: ignore[no-any-return]


def invalidate(platform: Platform) -> None:
    platform.caches.pop(CACHE_KEY, None)


def parse_geojson_geometry(value: dict[str, object], allowed: tuple[str, ...]) -> BaseGeometry:
    """GeoJSON in, a valid shapely geometry out, or a clear 422."""
    try:
        geom = shapely.geometry.shape(value)
    except Exception as exc:
        raise UrbanBrainError("geo.bad_geometry", reason=f"not GeoJSON ({type(exc).__name__})") from None
    if geom.geom_type not in allowed:
        raise UrbanBrainError(
            "geo.bad_geometry", reason=f"expected {' or '.join(allowed)}, got {geom.geom_type}"
        )
    if geom.is_empty or not geom.is_valid:
        raise UrbanBrainError("geo.bad_geometry", reason=shapely.is_valid_reason(geom))
    return geom
