"""Small, dependency-free geodesy helpers for district-scale work.

A district is ~10 km across, so a local equirectangular projection (an affine map of lon/lat to metres)
is accurate to well under 0.5 % and keeps straight lines straight and rectangles rectangles; that is what
grid construction and distance heuristics need.  Areas use the Lambert cylindrical equal-area projection
of the WGS84 ellipsoid, which is exact for areas (up to the shape of the edges between vertices), so
``area_km2`` needs no pyproj and no projection choice by the caller.

All geometries are lon/lat (EPSG:4326 axis order: x = longitude, y = latitude).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

WGS84_A = 6_378_137.0
"""WGS84 semi-major axis in metres."""
WGS84_F = 1 / 298.257223563
"""WGS84 flattening."""
WGS84_E2 = WGS84_F * (2 - WGS84_F)
"""WGS84 first eccentricity squared."""
EARTH_MEAN_RADIUS_M = 6_371_008.8
"""IUGG mean earth radius, used by the haversine distance (error < 0.5 % against the ellipsoid)."""

_DEG = math.pi / 180.0


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two lon/lat points (scalar, uses ``math`` for speed)."""
    p1 = lat1 * _DEG
    p2 = lat2 * _DEG
    dp = p2 - p1
    dl = (lon2 - lon1) * _DEG
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_m_array(
    lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike
) -> NDArray[np.float64]:
    """Vectorised :func:`haversine_m` (numpy broadcasting rules apply)."""
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_MEAN_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))), dtype=np.float64)


def _radii_of_curvature(lat_deg: float) -> tuple[float, float]:
    """Meridional (M) and prime-vertical (N) radii of curvature of WGS84 at a latitude."""
    s2 = math.sin(lat_deg * _DEG) ** 2
    w = 1.0 - WGS84_E2 * s2
    m = WGS84_A * (1.0 - WGS84_E2) / w**1.5
    n = WGS84_A / math.sqrt(w)
    return m, n


@dataclass(frozen=True)
class LocalProjection:
    """Local equirectangular projection around (lon0, lat0): an affine lon/lat <-> metres map.

    Uses the ellipsoid's radii of curvature at ``lat0``, so scale is exact at the reference latitude and
    off by ~0.02 % per km north/south of it at 22° N.  Being affine, it maps axis-aligned rectangles in
    metres to axis-aligned rectangles in degrees, which lets grids be cut in lon/lat without reprojecting.
    """

    lon0: float
    lat0: float
    m_per_deg_lon: float = field(init=False)
    m_per_deg_lat: float = field(init=False)

    def __post_init__(self) -> None:
        m, n = _radii_of_curvature(self.lat0)
        object.__setattr__(self, "m_per_deg_lon", n * math.cos(self.lat0 * _DEG) * _DEG)
        object.__setattr__(self, "m_per_deg_lat", m * _DEG)

    def to_metres(self, lon: Any, lat: Any) -> tuple[Any, Any]:
        """lon/lat (floats or arrays) -> local x/y metres east/north of the origin."""
        return (lon - self.lon0) * self.m_per_deg_lon, (lat - self.lat0) * self.m_per_deg_lat

    def from_metres(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Local x/y metres (floats or arrays) -> lon/lat."""
        return x / self.m_per_deg_lon + self.lon0, y / self.m_per_deg_lat + self.lat0

    def geom_to_metres(self, geom: Any) -> Any:
        """Shapely geometry (or array of them) in lon/lat -> same geometry in local metres."""
        kx, ky, x0, y0 = self.m_per_deg_lon, self.m_per_deg_lat, self.lon0, self.lat0
        return shapely.transform(geom, lambda c: np.column_stack(((c[:, 0] - x0) * kx, (c[:, 1] - y0) * ky)))

    def geom_from_metres(self, geom: Any) -> Any:
        """Shapely geometry (or array of them) in local metres -> same geometry in lon/lat."""
        kx, ky, x0, y0 = self.m_per_deg_lon, self.m_per_deg_lat, self.lon0, self.lat0
        return shapely.transform(geom, lambda c: np.column_stack((c[:, 0] / kx + x0, c[:, 1] / ky + y0)))


def local_projection_for(geom: Any) -> LocalProjection:
    """A :class:`LocalProjection` centred on the bounding-box centre of a lon/lat geometry."""
    minx, miny, maxx, maxy = shapely.bounds(geom)
    return LocalProjection((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def _authalic_q(lat_rad: NDArray[np.float64]) -> NDArray[np.float64]:
    """The authalic function q(phi) of WGS84 (Snyder 1987, eq. 3-12)."""
    e = math.sqrt(WGS84_E2)
    s = np.sin(lat_rad)
    es = e * s
    return np.asarray(
        (1 - WGS84_E2) * (s / (1 - es * es) - (1 / (2 * e)) * np.log((1 - es) / (1 + es))), dtype=np.float64
    )


def area_m2(geom: Any) -> float:
    """Ellipsoidal (WGS84) area in m² of a lon/lat polygonal geometry.

    Projects to the Lambert cylindrical equal-area projection of the ellipsoid (x = a·λ, y = a·q(φ)/2),
    whose planar area equals the ellipsoid's area, then takes the planar area.  Non-polygonal parts
    contribute nothing.
    """
    if geom is None or shapely.is_empty(geom):
        return 0.0
    bounds = shapely.bounds(geom)
    lon0 = float(bounds[0])
    # Offsetting y to the southern edge keeps the shoelace sum well conditioned (areas are translation-free).
    q0 = float(_authalic_q(np.radians(np.array([bounds[1]], dtype=np.float64)))[0])

    def project(c: NDArray[np.float64]) -> NDArray[np.float64]:
        x = WGS84_A * np.radians(c[:, 0] - lon0)
        y = WGS84_A * (_authalic_q(np.radians(c[:, 1])) - q0) / 2.0
        return np.column_stack((x, y))

    return float(shapely.area(shapely.transform(geom, project)))


def area_km2(geom: Any) -> float:
    """Ellipsoidal area in km² of a lon/lat polygonal geometry (see :func:`area_m2`)."""
    return area_m2(geom) / 1e6
