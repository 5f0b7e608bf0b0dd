"""Deterministic synthetic registry data for the demo district: buildings, households, residents, venues,
licences and public facilities.

Shuiwei village (水围村) reproduces the seed's figures exactly (318 buildings, 660 venues and merchants, over
30,000 residents) so its fire-safety map tells the seed's story at any ``scale``; the rest of the district is
spread by street profile and scaled. Each section draws from its own generator derived from ``seed``, so two
calls are equal and Shuiwei does not change with ``scale``. Protected fields are plaintext here: the inserting
code seals them and derives street/community/grid codes from lon/lat.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from urbanbrain.core.geodesy import LocalProjection
from urbanbrain.demo import names as nm
from urbanbrain.domains.registry.schemas import FACILITY_CODE_PREFIX

Row = dict[str, Any]

REFERENCE_DATE = date(2018, 7, 9)
"""The seed report's date: ages, move-in dates and licence expiry are judged against it."""
SHUIWEI_COMMUNITY = "440304004028"
SHUIWEI_VILLAGE = "440304004028-V01"
SHUIWEI_BUILDINGS = 318
SHUIWEI_VENUES = 660
SHUIWEI_RESIDENTS = 31_000
OTHER_BUILDINGS = 4_000
OTHER_VENUES = 2_000
PROJ = LocalProjection(114.05, 22.54)

# kind: (count at scale 1.0, Chinese name, owning department code); code prefixes are FACILITY_CODE_PREFIX's.
FACILITIES: dict[str, tuple[int, str, str]] = {
    "street_light": (12_000, "路灯", "roads_facilities"),
    "manhole_cover": (9_000, "井盖", "water"),
    "rubbish_bin": (4_000, "垃圾桶", "urban_management"),
    "fire_hydrant": (1_800, "消火栓", "water"),
    "camera_pole": (1_500, "监控杆", "police"),
    "guard_rail": (1_200, "护栏", "traffic"),
    "bench": (800, "座椅", "urban_management"),
    "bus_shelter": (600, "公交候车亭", "transport"),
    "traffic_signal": (500, "交通信号灯", "traffic"),
    "newsstand": (300, "报刊亭", "culture_tourism"),
    "public_toilet": (150, "公共厕所", "urban_management"),
}


@dataclass
class DemoDistrict:
    """The generated registry rows, as dicts keyed by model column (plus ``*_code`` references)."""

    buildings: list[Row] = field(default_factory=list)
    units: list[Row] = field(default_factory=list)
    residents: list[Row] = field(default_factory=list)
    venues: list[Row] = field(default_factory=list)
    licences: list[Row] = field(default_factory=list)
    facilities: list[Row] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Rows per table, for logs and the seeding audit entry."""
        return {k: len(v) for k, v in vars(self).items()}


def _gens(seed: int, section: int) -> tuple[random.Random, np.random.Generator]:
    """Per-section generators, so one section's draws never shift another's."""
    return random.Random(seed * 100 + section), np.random.default_rng([seed, section])


def _day(rnd: random.Random, start: date, end: date) -> date:
    """A uniform day in [start, end]; ``start`` when the range is empty."""
    return date.fromordinal(rnd.randint(start.toordinal(), max(start.toordinal(), end.toordinal())))


def _sample_in(
    rng: np.random.Generator, geom: BaseGeometry, n: int, exclude: BaseGeometry | None = None
) -> np.ndarray:
    """``n`` uniform lon/lat points inside ``geom`` (and outside ``exclude``), by vectorised rejection."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        pts = rng.uniform((minx, miny), (maxx, maxy), size=(max(64, 3 * (n - got)), 2))
        ok = shapely.contains_xy(geom, pts[:, 0], pts[:, 1])
        if exclude is not None:
            ok &= ~shapely.contains_xy(exclude, pts[:, 0], pts[:, 1])
        out.append(pts[ok][: n - got])
        got += len(out[-1])
    return np.concatenate(out) if out else np.empty((0, 2))


def _footprints(lon: np.ndarray, lat: np.ndarray, w: np.ndarray, d: np.ndarray, ang: np.ndarray) -> list[Any]:
    """Rotated rectangles (sides in metres) around each point, as lon/lat polygons."""
    x, y = PROJ.to_metres(lon, lat)
    corners = np.array([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5)])
    dx, dy = corners[None, :, 0] * w[:, None], corners[None, :, 1] * d[:, None]
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    px, py = PROJ.from_metres(x[:, None] + dx * c - dy * s, y[:, None] + dx * s + dy * c)
    return list(shapely.polygons(np.stack([px, py], axis=-1)))


def _locate(geoms: list[BaseGeometry], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Index of the polygon containing each point (-1 where none does)."""
    idx = np.full(len(lon), -1)
    for i, g in enumerate(geoms):
        shapely.prepare(g)
        idx[(idx < 0) & shapely.contains_xy(g, lon, lat)] = i
    return idx


class _Ids:
    """Unique synthetic ID numbers (collisions are rare but would break the exact-match index)."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.seen: set[str] = set()

    def make(self, region: str, birth: date, gender: str) -> str:
        while (n := nm.id_number(self.rnd, region, birth, gender)) in self.seen:
            pass
        self.seen.add(n)
        return n


def _person(
    rnd: random.Random,
    ids: _Ids,
    unit: str,
    relation: str,
    gender: str,
    year: int,
    region: str,
    moved_from: date,
    surname: str | None = None,
) -> Row:
    birth = _day(rnd, date(year, 1, 1), date(year, 12, 31))
    return {
        "unit_code": unit,
        "name": nm.person_name(rnd, gender, surname),
        "gender": gender,
        "birth_year": year,
        "relation": relation,
        "id_number": ids.make(region, birth, gender),
        "phone": nm.mobile(rnd) if year <= 2004 else None,  # children have no phone of their own
        "moved_in": _day(rnd, max(moved_from, birth), REFERENCE_DATE - timedelta(days=1)),
    }


def _household(rnd: random.Random, ids: _Ids, unit: Row, size: int, built: int, native: bool) -> list[Row]:
    """A family for owner-occupied units (head + members), otherwise tenants: young migrant workers,
    couples and the odd child, as in a rented urban-village room."""
    y0, code = REFERENCE_DATE.year, unit["code"]
    since = date(max(built, 1985), 1, 1)
    if unit["tenure"] == "owner":
        g = "M" if rnd.random() < 0.7 else "F"
        hy = y0 - rnd.randint(30, 72)
        region = rnd.choice(nm.REGIONS_GUANGDONG) if not native else "440304" if hy >= 1990 else "440301"
        sur = nm.SHUIWEI_SURNAME if native and rnd.random() < 0.6 else None
        head = _person(rnd, ids, code, "head", g, hy, region, since, sur)
        out = [head]
        for i in range(1, size):
            if i == 1:  # spouse
                spouse = "F" if g == "M" else "M"
                out.append(_person(rnd, ids, code, "member", spouse, hy + rnd.randint(-5, 5), region, since))
            else:  # children, sharing the head's surname
                cy = min(y0 - 1, hy + rnd.randint(22, 38))
                out.append(
                    _person(
                        rnd,
                        ids,
                        code,
                        "member",
                        rnd.choice("MF"),
                        cy,
                        "440304" if cy >= 1990 else region,
                        since,
                        head["name"][0],
                    )
                )
        return out
    out = []
    region = rnd.choice(nm.REGIONS_GUANGDONG if rnd.random() < 0.3 else nm.REGIONS_OTHER)
    since = max(since, date(2005, 1, 1))
    for i in range(size):
        family = i > 0 and rnd.random() < 0.5
        year = y0 - (rnd.randint(1, 15) if family and i > 1 else rnd.randint(18, 50))
        out.append(
            _person(
                rnd,
                ids,
                code,
                "tenant",
                rnd.choice("MF"),
                year,
                region if family else rnd.choice(nm.REGIONS_OTHER),
                since,
            )
        )
    return out


def _units_for(
    rnd: random.Random, b: Row, per_floor: int, ground_shop: float, tenures: tuple[float, ...]
) -> list[Row]:
    """Every floor of a building, ``per_floor`` units each; ground-floor units are shops at a rate."""
    out = []
    for f in range(1, b["floors"] + 1):
        for n in range(1, per_floor + 1):
            shop = f == 1 and rnd.random() < ground_shop
            kind = "shop" if shop else ("vacant" if rnd.random() < 0.05 else "household")
            area = rnd.uniform(15, 50) if shop else rnd.uniform(18, 45) * (1 if b["village_code"] else 2.4)
            tenure = "rented" if shop else rnd.choices(("owner", "rented", "collective"), weights=tenures)[0]
            out.append(
                {
                    "code": f"{b['code']}-{f * 100 + n:04d}",
                    "building_code": b["code"],
                    "floor": f,
                    "number": str(f * 100 + n),
                    "kind": kind,
                    "area_m2": round(area, 1),
                    "tenure": tenure,
                }
            )
    return out


def _shuiwei_buildings(
    rnd: random.Random, rng: np.random.Generator, village: BaseGeometry, street: str
) -> list[Row]:
    """318 handshake buildings (握手楼) in blocks (坊) of two rows, 1-3 m apart, between 16-20 m streets.

    Blocks fill the village from near its centre outward (with noise) and are numbered in reading order."""
    ang, rows, cols = math.radians(12.0), 2, 8
    core = PROJ.geom_to_metres(village).buffer(-12.0)
    cx, cy = core.centroid.x, core.centroid.y
    grid = np.meshgrid(np.arange(-15, 16), np.arange(-6, 7), np.arange(rows), np.arange(cols), indexing="ij")
    bi, bj, r, c = (g.ravel() for g in grid)  # block row (north first), block column, row, house
    u, v = bj * 128.0 + (c - 3.5) * 13.5, -bi * 49.0 - (r - 0.5) * 15.5
    x, y = cx + u * math.cos(ang) - v * math.sin(ang), cy + u * math.sin(ang) + v * math.cos(ang)
    inside = shapely.contains_xy(core, x, y)
    key = (bi + 15) * 13 + (bj + 6)  # block id, increasing in reading order
    slots = np.bincount(key[inside], minlength=31 * 13)
    blocks = np.flatnonzero(slots >= 12)
    dist = np.hypot((blocks % 13 - 6) * 128.0, (blocks // 13 - 15) * 49.0)
    blocks = blocks[np.argsort(dist * (1 + 2.0 * rng.random(len(blocks))), kind="stable")]
    chosen = blocks[: int(np.searchsorted(np.cumsum(slots[blocks]), SHUIWEI_BUILDINGS / 0.9)) + 1]
    pick = rng.choice(np.flatnonzero(inside & np.isin(key, chosen)), size=SHUIWEI_BUILDINGS, replace=False)
    pick = pick[np.lexsort((c[pick], r[pick], key[pick]))]
    lon, lat = PROJ.from_metres(x[pick], y[pick])
    n = len(pick)
    feet = _footprints(lon, lat, rng.uniform(10, 12.5, n), rng.uniform(11, 13.5, n), np.full(n, ang))
    pair = key[pick]
    fang_of = {int(k): i + 1 for i, k in enumerate(sorted(set(pair.tolist())))}
    out: list[Row] = []
    house: dict[int, int] = {}
    for k in range(len(pick)):
        fang = fang_of[int(pair[k])]
        house[fang] = house.get(fang, 0) + 1
        native_owner = rnd.random() < 0.95
        g = "M" if rnd.random() < 0.8 else "F"
        owner = nm.person_name(rnd, g, nm.SHUIWEI_SURNAME) if native_owner else "深圳市水围实业股份有限公司"
        out.append(
            {
                "code": f"{SHUIWEI_VILLAGE}-B{k + 1:03d}",
                "name": f"水围村{fang}坊{house[fang]}号楼",
                "address": f"福田区{street}水围村{fang}坊{house[fang]}号",
                "lon": float(lon[k]),
                "lat": float(lat[k]),
                "footprint": feet[k],
                "floors": rnd.choices((6, 7, 8, 9), weights=(2, 3.5, 3, 1.5))[0],
                "use": "mixed" if rnd.random() < 0.45 else "residential",
                "structure": "brick_concrete" if rnd.random() < 0.6 else "frame",
                "built_year": rnd.randint(1985, 2005),
                "village_code": SHUIWEI_VILLAGE,
                "owner_name": owner,
                "owner_phone": nm.mobile(rnd) if native_owner else nm.landline("shuiwei-jointstock"),
                "properties": {
                    "type": "握手楼",
                    "fang": fang,
                    "house_no": house[fang],
                    "gap_to_neighbour_m": round(rnd.uniform(0.6, 2.5), 1),
                    "smoke_sensors": rnd.randint(0, 12),
                    "fire_risk": rnd.choice(("high", "medium", "low")),
                },
            }
        )
    return out


def _other_buildings(
    rnd: random.Random,
    rng: np.random.Generator,
    n_total: int,
    streets: dict[str, Any],
    communities: list[Any],
    village: BaseGeometry,
) -> list[Row]:
    """Buildings outside the village, shared among communities by area x street density (largest remainder),
    so dense residential and commercial streets get more."""
    weights = np.array(
        [
            c.properties.get("area_km2", c.geometry.area * 1e4)
            * nm.STREET_PROFILES.get(c.parent_code, nm.DEFAULT_PROFILE)[0]
            for c in communities
        ]
    )
    quota = weights / weights.sum() * n_total
    counts = np.floor(quota).astype(int)
    counts[np.argsort(counts - quota, kind="stable")[: n_total - counts.sum()]] += 1
    keep_out = village.buffer(0.0004)  # ~40 m, so no footprint reaches into the village
    out: list[Row] = []
    for comm, n in zip(communities, counts, strict=True):
        if n == 0:
            continue
        _, uses_w, roads = nm.STREET_PROFILES.get(comm.parent_code, nm.DEFAULT_PROFILE)
        pts = _sample_in(rng, comm.geometry, int(n), keep_out)
        pts = pts[np.lexsort((pts[:, 0], -pts[:, 1]))]
        uses = rng.choice(len(nm.USES), size=len(pts), p=np.array(uses_w) / sum(uses_w))
        size = np.where(uses == nm.USES.index("industrial"), 40.0, np.where(uses == 0, 22.0, 30.0))
        sides = np.clip(rng.uniform(0.3, 1.0, (2, len(pts))) * size, 8.0, 40.0)
        feet = _footprints(pts[:, 0], pts[:, 1], sides[0], sides[1], rng.uniform(0, math.pi, len(pts)))
        # The bonded zone's "virtual community" has no place name of its own: use the street's.
        virtual = "虚拟" in comm.name
        short = streets[comm.parent_code].name if virtual else comm.name.removesuffix("社区")
        sname, cname = streets[comm.parent_code].name, "" if virtual else comm.name
        numbers: dict[str, int] = {}
        named: dict[str, int] = {}
        for k, (p, ui) in enumerate(zip(pts, uses, strict=True)):
            use, year = nm.USES[ui], rnd.randint(1982, 2018)
            floors = {
                "residential": rnd.randint(6, 9) if year < 1998 else rnd.randint(12, 34),
                "mixed": rnd.randint(6, 24),
                "commercial": rnd.randint(3, 12),
                "office": rnd.randint(12, 30) if year < 2000 else rnd.randint(20, 50),
                "industrial": rnd.randint(3, 8),
                "public": rnd.randint(3, 8),
            }[use]
            if use == "industrial" and rnd.random() < 0.4:
                structure = "steel"
            elif floors <= 20:
                structure = "brick_concrete" if floors <= 7 and year < 2000 else "frame"
            else:
                structure = "shear_wall" if use == "residential" else "frame_core_tube"
            word = rnd.choice(nm.NAME_WORDS[use])
            named[word] = named.get(word, 0) + 1
            road = rnd.choice(roads)
            numbers[road] = numbers.get(road, rnd.randint(1, 20)) + rnd.randint(2, 8)
            person = use == "residential" and floors <= 9
            owner = nm.person_name(rnd, rnd.choice("MF")) if person else f"深圳市{short}{word}物业有限公司"
            out.append(
                {
                    "code": f"{comm.code}-B{k + 1:04d}",
                    "name": f"{short}{word}{named[word]}栋",
                    "address": f"福田区{sname}{cname}{road}{numbers[road]}号",
                    "lon": float(p[0]),
                    "lat": float(p[1]),
                    "footprint": feet[k],
                    "floors": floors,
                    "use": use,
                    "structure": structure,
                    "built_year": year,
                    "village_code": None,
                    "owner_name": owner,
                    "owner_phone": nm.mobile(rnd) if person else nm.landline(owner),
                    "properties": {
                        "estate": f"{short}{word}",
                        "elevator": floors >= 7,
                        "fire_rating": "一级" if floors > 9 else "二级",
                    },
                }
            )
    return out


def _venues(
    rnd: random.Random, rng: np.random.Generator, spots: list[tuple[Row, str]], kinds: list[str]
) -> list[Row]:
    """Venues at (building, address) spots; codes number each building's venues."""
    per_building: dict[str, int] = {}
    out = []
    for (b, addr), kind in zip(spots, kinds, strict=True):
        cats, emp, area = nm.VENUE_KINDS[kind]
        cat = rnd.choice(cats)
        per_building[b["code"]] = per_building.get(b["code"], 0) + 1
        off = rng.uniform(-4, 4, 2) / np.array([PROJ.m_per_deg_lon, PROJ.m_per_deg_lat])
        out.append(
            {
                "code": f"{b['code']}-S{per_building[b['code']]:02d}",
                "name": nm.shop_name(rnd, cat),
                "kind": kind,
                "category": cat,
                "building_code": b["code"],
                "address": addr,
                "lon": b["lon"] + float(off[0]),
                "lat": b["lat"] + float(off[1]),
                "operator_name": nm.person_name(rnd, rnd.choice("MF")),
                "operator_phone": nm.mobile(rnd),
                "employees": rnd.randint(*emp),
                "floor_area_m2": round(rnd.uniform(*area), 1),
                "status": rnd.choices(("open", "closed", "suspended"), weights=(92, 4, 4))[0],
            }
        )
    return out


def _licences(rnd: random.Random, venues: list[Row]) -> list[Row]:
    """Every venue a business licence; food, hotels, entertainment and larger merchants get their own."""
    # Per-kind counters with random strides: numbers look irregular but can never repeat.
    seq = {
        k: rnd.randint(100, 900)
        for k in ("business", "food", "fire_safety", "special_trade", "entertainment")
    }
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    out = []

    def add(v: Row, kind: str, issuer: str, start: date, years: int | None) -> None:
        seq[kind] += rnd.randint(1, 37)
        n, issued = seq[kind], _day(rnd, start, date(2018, 6, 30))
        year = issued.year
        number = {
            "business": ("92" if v["kind"] != "merchant" else "91")
            + "440300MA5"
            + "".join(alphabet[(n // 31**i) % 31] for i in range(6, -1, -1)),
            "food": f"JY1440304{n:07d}",
            "fire_safety": f"深福消安检字〔{year}〕第{n:05d}号",
            "special_trade": f"深公福特旅字第{n:05d}号",
            "entertainment": f"福文娱经字〔{year}〕第{n:05d}号",
        }[kind]
        expires = None if years is None else issued.replace(year=issued.year + years, day=min(issued.day, 28))
        revoked = rnd.random() < (0.5 if v["status"] == "closed" and kind == "business" else 0.01)
        status = "revoked" if revoked else ("expired" if expires and expires < REFERENCE_DATE else "valid")
        out.append(
            {
                "venue_code": v["code"],
                "kind": kind,
                "number": number,
                "issued_on": issued,
                "expires_on": expires,
                "issuer_department_code": issuer,
                "status": status,
            }
        )

    for v in venues:
        add(v, "business", "market_supervision", date(2008, 1, 1), None if rnd.random() < 0.7 else 20)
        if v["category"] in nm.FOOD_CATEGORIES:
            add(v, "food", "market_supervision", date(2013, 1, 1), 5)
        if v["kind"] == "small_hotel":
            add(v, "special_trade", "police", date(2015, 1, 1), 3)
        if v["kind"] == "small_entertainment":
            add(v, "entertainment", "culture_tourism", date(2016, 1, 1), 2)
        if v["kind"] in ("small_hotel", "small_entertainment") or v["floor_area_m2"] >= 150:
            add(v, "fire_safety", "fire", date(2015, 1, 1), 3)
    return out


def _road_segments(district: BaseGeometry) -> list[tuple[np.ndarray, np.ndarray, str, bool]]:
    """Main roads plus a minor road midway between each pair, clipped to the district, in metres."""
    dm = PROJ.geom_to_metres(district)
    minx, miny, maxx, maxy = dm.bounds
    lines: list[tuple[str, bool, bool, float]] = []  # name, major, east-west, coordinate (metres)
    for ew, roads in ((True, nm.ROADS_EW), (False, nm.ROADS_NS)):
        coords = [PROJ.to_metres(0, c)[1] if ew else PROJ.to_metres(c, 0)[0] for _, c in roads]
        lines += [(name, True, ew, c) for (name, _), c in zip(roads, coords, strict=True)]
        lines += [
            (f"{a[0]}{'南' if ew else '东'}侧支路", False, ew, (ca + cb) / 2)
            for a, ca, cb in zip(roads, coords, coords[1:], strict=False)
        ]
    out = []
    for name, major, ew, c in lines:
        ends = [(minx - 10, c), (maxx + 10, c)] if ew else [(c, miny - 10), (c, maxy + 10)]
        line = shapely.LineString(ends)
        for part in shapely.get_parts(shapely.intersection(line, dm)):
            xy = shapely.get_coordinates(part)
            if part.geom_type == "LineString" and len(xy) >= 2 and part.length > 50:
                out.append((xy[0], xy[-1], name, major))
    return out


def _along(
    rng: np.random.Generator, segs: list[Any], n: int, offset: tuple[float, float], major_only: bool
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n`` points at random along the roads, offset sideways (either side) by a distance in ``offset``."""
    use = [s for s in segs if s[3] or not major_only]
    a, b = np.array([s[0] for s in use]), np.array([s[1] for s in use])
    length = np.hypot(*(b - a).T)
    k = rng.choice(len(use), size=n, p=length / length.sum())
    t, side = rng.random(n), rng.choice((-1.0, 1.0), n) * rng.uniform(*offset, n)
    d = (b - a)[k] / length[k, None]
    x = a[k, 0] + t * (b - a)[k, 0] - d[:, 1] * side
    y = a[k, 1] + t * (b - a)[k, 1] + d[:, 0] * side
    lon, lat = PROJ.from_metres(x, y)
    return lon, lat, [use[i][2] for i in k]


def _facilities(
    rnd: random.Random,
    rng: np.random.Generator,
    scale: float,
    district: BaseGeometry,
    streets: list[Any],
    communities: list[Any],
) -> list[Row]:
    """Facilities along a synthetic road network (signals at junctions), a share scattered; inside only."""
    segs = _road_segments(district)
    shapely.prepare(district)
    junctions = np.array([(lo, la) for _, la in nm.ROADS_EW for _, lo in nm.ROADS_NS])
    junction_names = [f"{e}与{s}交叉口" for e, _ in nm.ROADS_EW for s, _ in nm.ROADS_NS]
    people: dict[tuple[str, int], str] = {}
    out: list[Row] = []
    for kind, (count, cn, owner) in FACILITIES.items():
        n = max(1, round(count * scale))
        share, offset, major = nm.FACILITY_PLACES[kind]
        lon, lat, names = np.empty(0), np.empty(0), list[str]()
        while len(lon) < n:  # draw, keep those inside, repeat for the shortfall
            m = n - len(lon)
            n_road = m if share >= 1.0 else int(rng.binomial(m, share))
            a_lon, a_lat, a_names = _along(rng, segs, n_road, offset, major)
            if kind == "traffic_signal":
                j = rng.integers(0, len(junctions), n_road)
                a_lon = junctions[j, 0] + rng.choice((-1, 1), n_road) * rng.uniform(1, 2, n_road) * 1e-4
                a_lat = junctions[j, 1] + rng.choice((-1, 1), n_road) * rng.uniform(1, 2, n_road) * 1e-4
                a_names = [junction_names[i] for i in j]
            free = _sample_in(rng, district, m - n_road)
            c_lon = np.concatenate([a_lon, free[:, 0]])
            c_lat = np.concatenate([a_lat, free[:, 1]])
            ok = shapely.contains_xy(district, c_lon, c_lat)
            c_names = a_names + [""] * len(free)
            lon, lat = np.concatenate([lon, c_lon[ok]]), np.concatenate([lat, c_lat[ok]])
            names += [nme for nme, keep in zip(c_names, ok, strict=True) if keep]
        street_idx = _locate([s.geometry for s in streets], lon, lat)
        comm_idx = _locate([c.geometry for c in communities], lon, lat)
        for i in range(n):
            code = f"FT-{FACILITY_CODE_PREFIX[kind]}-{i + 1:06d}"
            place = names[i] or (communities[comm_idx[i]].name if comm_idx[i] >= 0 else "福田区")
            settings, override = nm.facility_settings(rnd, kind, names[i] or place)
            dept = override or owner
            key = (dept, int(street_idx[i]))
            if key not in people:
                people[key] = nm.person_name(rnd, rnd.choice("MF"))
            out.append(
                {
                    "code": code,
                    "kind": kind,
                    "name": f"{cn} {code} ({place})",
                    "lon": float(lon[i]),
                    "lat": float(lat[i]),
                    "owner_department_code": dept,
                    "responsible_person": people[key],
                    "responsible_phone": nm.landline(f"{dept}:{key[1]}"),
                    "installed_on": _day(rnd, date(2000, 1, 1), date(2018, 6, 30)),
                    "settings": settings,
                    "status": rnd.choices(("in_service", "damaged", "removed"), weights=(96, 3.5, 0.5))[0],
                }
            )
    return out


def generate(
    areas: Iterable[Any], departments: Iterable[Row], *, seed: int = 20180709, scale: float = 1.0
) -> DemoDistrict:
    """Generate the demo registry. Pure and deterministic; ``scale`` shrinks everything but Shuiwei."""
    areas = list(areas)
    dept_codes = {d["code"] for d in departments}
    needed = {f[2] for f in FACILITIES.values()} | {"roads_facilities", "market_supervision", "fire"}
    if needed - dept_codes:  # owners and issuers are referenced by code; fail here, not at insert time
        raise ValueError(f"departments missing: {sorted(needed - dept_codes)}")
    district = next(a.geometry for a in areas if a.level == "district")
    streets = [a for a in areas if a.level == "street"]
    street_by_code = {s.code: s for s in streets}
    communities = [a for a in areas if a.level == "community"]
    village = next(a.geometry for a in areas if a.code == SHUIWEI_VILLAGE)
    shuiwei_street = street_by_code[SHUIWEI_COMMUNITY[:9]].name
    out = DemoDistrict()

    # Shuiwei: buildings, units on every floor, households filled to exactly SHUIWEI_RESIDENTS.
    rnd, rng = _gens(seed, 1)
    sw = _shuiwei_buildings(rnd, rng, village, shuiwei_street)
    sw_units = [
        u
        for b in sw
        for u in _units_for(rnd, b, rnd.randint(3, 6), 0.9 if b["use"] == "mixed" else 0.7, (8, 88, 4))
    ]
    ground = [u for u in sw_units if u["floor"] == 1]
    rnd, rng = _gens(seed, 2)
    hotel_b = rng.choice(len(sw), size=80, replace=False)
    weights = np.array([1.0 if u["kind"] == "shop" else 0.05 for u in ground])
    shop_u = rng.choice(len(ground), size=SHUIWEI_VENUES - 80, replace=False, p=weights / weights.sum())
    by_code = {b["code"]: b for b in sw}
    spots = [(sw[i], f"{sw[i]['address']}2-{sw[i]['floors']}层") for i in sorted(hotel_b)]
    for i in sorted(shop_u):
        ground[i]["kind"], ground[i]["tenure"] = "shop", "rented"
        b = by_code[ground[i]["building_code"]]
        spots.append((b, f"{b['address']}{ground[i]['number']}铺"))
    rest = ["small_entertainment"] * 50 + ["merchant"] * 140 + ["small_shop"] * (SHUIWEI_VENUES - 270)
    rnd.shuffle(rest)
    kinds = ["small_hotel"] * 80 + rest  # hotel spots come first
    out.venues += _venues(rnd, rng, spots, kinds)
    rnd, rng = _gens(seed, 3)
    homes = [u for u in sw_units if u["kind"] == "household"]
    area = np.array([u["area_m2"] for u in homes])
    sizes = 1 + rng.multinomial(SHUIWEI_RESIDENTS - len(homes), area / area.sum())
    ids = _Ids(rnd)
    for u, size in zip(homes, sizes, strict=True):
        built = by_code[u["building_code"]]["built_year"]
        out.residents += _household(rnd, ids, u, int(size), built, True)
    out.buildings += sw
    out.units += sw_units

    # The rest of the district, scaled.
    rnd, rng = _gens(seed, 4)
    others = _other_buildings(rnd, rng, round(OTHER_BUILDINGS * scale), street_by_code, communities, village)
    out.buildings += others
    for b in others:
        if b["use"] in ("residential", "mixed") and rnd.random() < 0.1:
            units = _units_for(rnd, b, rnd.randint(2, 6), 0.9 if b["use"] == "mixed" else 0.0, (55, 42, 3))
            out.units += units
            for u in units:
                if u["kind"] == "household" and rnd.random() < 0.1:
                    size = rnd.choice((1, 2, 2, 3, 3, 4))
                    out.residents += _household(rnd, ids, u, size, b["built_year"], False)
    venue_weight = {"commercial": 6, "mixed": 4, "residential": 1, "office": 1.5, "industrial": 0.5}
    w = np.array([venue_weight.get(b["use"], 0) for b in others], dtype=float)
    n_v = round(OTHER_VENUES * scale) if len(others) else 0
    picks = sorted(rng.choice(len(others), size=n_v, p=w / w.sum())) if n_v else []
    shop_no: dict[int, int] = {}
    spots = []
    for i in picks:
        shop_no[i] = shop_no.get(i, 0) + 1
        spots.append((others[i], f"{others[i]['address']}首层{shop_no[i]:02d}号铺"))
    kinds = [str(k) for k in rng.choice(list(nm.VENUE_KINDS), size=n_v, p=(0.55, 0.06, 0.06, 0.33))]
    out.venues += _venues(rnd, rng, spots, kinds)

    # Venues nudged off their building must stay in the district; then licences and facilities.
    v_lon, v_lat = np.array([v["lon"] for v in out.venues]), np.array([v["lat"] for v in out.venues])
    shapely.prepare(district)
    home_of = {b["code"]: b for b in out.buildings}
    for v, ok in zip(out.venues, shapely.contains_xy(district, v_lon, v_lat), strict=True):
        b = home_of[v["building_code"]]
        if not ok or (b["village_code"] and not village.contains(shapely.Point(v["lon"], v["lat"]))):
            v["lon"], v["lat"] = b["lon"], b["lat"]
    out.licences = _licences(_gens(seed, 5)[0], out.venues)
    rnd, rng = _gens(seed, 6)
    out.facilities = _facilities(rnd, rng, scale, district, streets, communities)
    return out
