"""A venue's walkable geometry for the crowd physics (JuPedSim), in a local metric frame (metres east and
north of the venue's anchor), and back to lon/lat (GCJ-02, like the registry) through a local tangent plane
around the anchor (a few centimetres off over a few hundred metres).

A venue is the watched zone (the part whose density is judged), the approach corridors whose mouths carry
the entrance counters, the exit corridors whose mouths carry the exit counters, the area where people stop
(the dwell area: in front of the show, the shop fronts), the cameras' coverage and the coarse cell of the
phone-signal estimate. The zone is bounded by the counters' lines, so what the counters see is what enters
and leaves the zone. The simulator's Futian venues (``urbanbrain.simulate.crowd.venues``) and the what-if's
venue built from a declared zone (``whatif_venue``) are both of this shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import shapely
from shapely.geometry import Polygon

EARTH_RADIUS_M = 6_378_137.0


@dataclass(frozen=True)
class Gate:
    """An entrance or exit: a corridor whose mouth on the zone's edge is a counter's line. ``inward`` is the
    unit vector pointing into the zone; ``far`` is the corridor's outer end (where people appear or leave)."""

    code: str
    name: str
    corridor: Polygon
    line: tuple[tuple[float, float], tuple[float, float]]
    inward: tuple[float, float]
    far: Polygon
    closed: bool = False  # an extra exit (an emergency gate) that a measure can open

    @property
    def width_m(self) -> float:
        (x1, y1), (x2, y2) = self.line
        return math.hypot(x2 - x1, y2 - y1)


@dataclass(frozen=True)
class Camera:
    code: str
    coverage: Polygon


@dataclass(frozen=True)
class Venue:
    code: str
    prefix: str  # of the virtual devices' ids: CC-PLAZA-E1, CC-PLAZA-CAM1
    name: str
    anchor: tuple[float, float]  # lon, lat (GCJ-02) of the local frame's origin
    zone: Polygon
    dwell: Polygon
    entrances: tuple[Gate, ...]
    exits: tuple[Gate, ...]
    cameras: tuple[Camera, ...]
    cell: Polygon  # the phone-signal estimate's cell: zone, corridors and the streets around

    @property
    def walkable(self) -> Polygon:
        """The zone and its corridors, a closed exit's left out (it is behind a barrier)."""
        return self.walkable_with(())

    def walkable_with(self, opened: tuple[str, ...] | set[str]) -> Polygon:
        """The walkable area once the closed exits ``opened`` are open."""
        gates = [g for g in (*self.entrances, *self.exits) if not g.closed or g.code in opened]
        parts = [self.zone, *(g.corridor for g in gates)]
        merged = shapely.union_all(parts).buffer(0.01, join_style="mitre").buffer(-0.01, join_style="mitre")
        assert isinstance(merged, Polygon), f"{self.code}: the walkable area is not one polygon"
        return shapely.set_precision(merged, 0.001)

    @property
    def zone_area_m2(self) -> float:
        return float(self.zone.area)

    @property
    def walkable_area_m2(self) -> float:
        return float(self.walkable.area)

    def gate(self, code: str) -> Gate:
        for g in (*self.entrances, *self.exits):
            if g.code == code:
                return g
        raise KeyError(f"{self.code} has no gate {code!r}")

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        """Metres east/north of the anchor to lon/lat (local tangent plane)."""
        lon0, lat0 = self.anchor
        lat = lat0 + math.degrees(y / EARTH_RADIUS_M)
        lon = lon0 + math.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
        return round(lon, 7), round(lat, 7)

    def geojson(self, polygon: Polygon) -> dict[str, Any]:
        ring = [list(self.to_lonlat(x, y)) for x, y in polygon.exterior.coords]
        return {"type": "Polygon", "coordinates": [ring]}

    def with_closed(self, codes: tuple[str, ...]) -> Venue:
        """The same venue with the exits ``codes`` closed (behind a barrier until a measure opens them)."""
        return replace(self, exits=tuple(replace(g, closed=g.closed or g.code in codes) for g in self.exits))

    def with_exit_widths(self, factor: float) -> Venue:
        """The same venue with every exit corridor ``factor`` times as wide (the suite's exit capacity)."""
        return replace(self, exits=tuple(_widen(g, factor) for g in self.exits))


def _widen(g: Gate, factor: float) -> Gate:
    (ax, ay), (bx, by) = g.line
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    line = (
        (cx + (ax - cx) * factor, cy + (ay - cy) * factor),
        (cx + (bx - cx) * factor, cy + (by - cy) * factor),
    )
    along = (1.0, 0.0) if g.inward[0] == 0 else (0.0, 1.0)

    def scaled(p: Polygon) -> Polygon:
        return shapely.affinity.scale(p, *(factor if a else 1.0 for a in along), origin=(cx, cy))

    return replace(g, corridor=scaled(g.corridor), far=scaled(g.far), line=line)
