"""Addresses in words to a place: "沙嘴路12号那栋", "水围村口那家小饭店", "福华路和金田路路口", "梅林这边".

People on the hotline name places the way they know them, not with coordinates. The registry knows the
names: every building's address, the streets and communities, the main roads, and a gazetteer of
landmarks (metro stations, malls, parks, urban villages, hospitals) with their common and misspelt names.
The geocoder looks for those names in the text and answers the most precise place it finds:

1. a building: a road of the registry with a house number ("沙嘴路12号"), narrowed by a street or
   community named beside it when the road runs through several;
2. an intersection of two main roads ("福华路与金田路交汇处");
3. a landmark or one of its aliases (the longest name found wins: "莲花山公园北门" is the park, not 莲花);
4. a community, then a street (its representative point, precision ``street``).

What names no place (我家楼下, 公司门口, a place in another district, a road alone) is ``None``: the report
waits for a dispatcher with the reason, never placed at a default point.
"""

from __future__ import annotations

import re
import threading
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.core.context import Platform
from urbanbrain.domains.registry.models import Area, Building

CACHE_KEY = "registry.geocoder"
_lock = threading.Lock()
_NUMBER = re.compile(r"([0-9]+)号")
_NOISE = re.compile(r"[\s,，。、;；:：!！?？()（）\"'“”‘’]+")
_CN_DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")}
PRECISION = ("building", "intersection", "landmark", "community", "street")


@dataclass(frozen=True)
class Found:
    lon: float
    lat: float
    precision: str  # building | intersection | landmark | community | street
    name: str  # what was recognised


@dataclass(frozen=True)
class _Place:
    name: str
    lon: float
    lat: float
    precision: str
    street_code: str | None = None


def normalize(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation, no leading 深圳市/福田区, 一二三 house numbers as digits."""
    t = _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())
    for prefix in ("广东省", "深圳市", "深圳", "福田区"):
        t = t.replace(prefix, "", 1) if t.startswith(prefix) else t
    return re.sub(r"[零一二三四五六七八九十]+(?=号)", lambda m: _cn_number(m.group()), t)


def _cn_number(words: str) -> str:
    """一二 → 12, 十二 → 12, 二十三 → 23, 一百零五 is left alone (house numbers people say are small)."""
    if "十" not in words:
        return "".join(_CN_DIGITS[c] for c in words)
    tens, _, ones = words.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return words
    return str(int(_CN_DIGITS.get(tens, "1")) * 10 + int(_CN_DIGITS.get(ones, "0")))


def default_gazetteer() -> Path:
    return Path(str(resources.files("urbanbrain.demo.futian_data").joinpath("gazetteer.toml")))


class Geocoder:
    """The names the registry knows, indexed for substring search (a few hundred names: a scan is enough)."""

    def __init__(
        self,
        areas: list[tuple[str, str, str, Any]],
        buildings: list[tuple[str, float, float, str | None, str | None]],
        gazetteer: dict[str, Any],
    ) -> None:
        self.places: list[_Place] = []
        street_of: dict[str, str | None] = {}
        area_point: dict[str, tuple[float, float]] = {}
        for code, level, name, geom in areas:
            if level not in ("street", "community", "village") or geom is None:
                continue
            p = shapely.point_on_surface(geom)
            area_point[code] = (p.x, p.y)
            precision = "landmark" if level == "village" else level
            for variant in _area_names(name, level):
                self.places.append(_Place(variant, p.x, p.y, precision, code if level == "street" else None))
            street_of[code] = code if level == "street" else None
        for lm in gazetteer.get("landmark", []):
            for variant in [lm["name"], *lm.get("aliases", [])]:
                self.places.append(_Place(normalize(variant), float(lm["lon"]), float(lm["lat"]), "landmark"))
        by_name = {p.name: p for p in self.places}
        for alias in gazetteer.get("alias", []):
            target = by_name.get(normalize(alias["target"]))
            if target is not None:
                self.places.append(
                    _Place(normalize(alias["alias"]), target.lon, target.lat, target.precision)
                )
        self.places = [p for p in self.places if len(p.name) >= 2]
        self.places.sort(key=lambda p: (-len(p.name), PRECISION.index(p.precision)))
        # Roads: E-W roads by latitude, N-S roads by longitude, so two of them cross at one point.
        self.roads_ew = {normalize(r["name"]): float(r["lat"]) for r in gazetteer.get("road_ew", [])}
        self.roads_ns = {normalize(r["name"]): float(r["lon"]) for r in gazetteer.get("road_ns", [])}
        # Buildings by (road, number): the demo's addresses are <street><community><road><n>号.
        self.houses: dict[tuple[str, str], list[tuple[float, float, str | None, str | None, str]]] = {}
        self.road_names: set[str] = set()
        full_names = sorted(
            (normalize(name) for _, level, name, _ in areas if level in ("street", "community")),
            key=len,
            reverse=True,
        )
        for address, lon, lat, street, community in buildings:
            norm = normalize(address)
            for name in full_names:  # <street><community><road><n>号: what is left is the road and number
                norm = norm.replace(name, "")
            m = re.match(r"(.+?)([0-9]+)号", norm)
            if not m:
                continue
            road, number = m.group(1), m.group(2)
            self.road_names.add(road)
            self.houses.setdefault((road, number), []).append((lon, lat, street, community, address))

    def find(self, text: str) -> Found | None:
        """The most precise place named in ``text``, or None."""
        t = normalize(text)
        if not t:
            return None
        named = [p for p in self.places if p.name in t]
        house = self._house(t, named)
        if house is not None:
            return house
        crossing = self._crossing(t)
        if crossing is not None:
            return crossing
        for precision in ("landmark", "community", "street"):
            hit = next((p for p in named if p.precision == precision), None)
            if hit is not None:
                return Found(hit.lon, hit.lat, precision, hit.name)
        return None

    def _house(self, t: str, named: list[_Place]) -> Found | None:
        for m in _NUMBER.finditer(t):
            before = t[: m.start()]
            road = next(
                (r for r in sorted(self.road_names, key=len, reverse=True) if before.endswith(r)), None
            )
            if road is None:
                continue
            found = self.houses.get((road, m.group(1)), [])
            if len(found) > 1:  # the same road and number in several places: the areas named decide
                names = {p.name for p in named}
                score = [sum(n in normalize(h[4]) for n in names) for h in found]
                found = [h for h, sc in zip(found, score, strict=True) if sc == max(score)]
            if len({(h[2], h[3]) for h in found}) == 1:
                lon, lat, _, _, address = found[0]
                return Found(lon, lat, "building", address)
        return None

    def _crossing(self, t: str) -> Found | None:
        ew = [(t.find(n), n) for n in self.roads_ew if n in t]
        ns = [(t.find(n), n) for n in self.roads_ns if n in t]
        if ew and ns:
            (_, a), (_, b) = min(ew), min(ns)
            return Found(self.roads_ns[b], self.roads_ew[a], "intersection", f"{a}/{b}")
        return None


def _area_names(name: str, level: str) -> list[str]:
    """A division's name as people say it: 沙头街道 → 沙头街道, 沙头; 上沙社区 → 上沙社区, 上沙."""
    full = normalize(name)
    out = [full]
    for suffix in ("街道办事处", "街道", "社区", "保税区"):
        if full.endswith(suffix) and len(full) - len(suffix) >= 2:
            out.append(full[: -len(suffix)])
            break
    return out


def load_gazetteer(path: Path | None) -> dict[str, Any]:
    path = path or default_gazetteer()
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def build(session: Session, gazetteer: dict[str, Any]) -> Geocoder:
    areas = [
        (r.code, r.level, r.name, r.geom)
        for r in session.execute(select(Area.code, Area.level, Area.name, Area.geom))
    ]
    buildings = [
        (r.address, r.lon, r.lat, r.street_code, r.community_code)
        for r in session.execute(
            select(
                Building.address, Building.lon, Building.lat, Building.street_code, Building.community_code
            )
        )
    ]
    return Geocoder(areas, buildings, gazetteer)


def get_geocoder(platform: Platform, session: Session) -> Geocoder:
    """The cached geocoder, rebuilt with the area lookup (an area or building added shows up within seconds)."""
    from urbanbrain.domains.registry.spatial import _stamp

    houses = session.execute(select(func.count(Building.id), func.max(Building.id))).one()
    stamp = (_stamp(session), tuple(houses))
    entry = platform.caches.get(CACHE_KEY)
    if entry is not None and entry[1] == stamp:
        return entry[0]  # type: ignore[no-any-return]
    with _lock:
        geocoder = build(session, load_gazetteer(platform.settings.gazetteer))
        platform.caches[CACHE_KEY] = (geocoder, stamp)
    return geocoder
