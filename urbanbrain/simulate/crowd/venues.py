"""Futian venues as data for the crowd simulator: three small venues (the Civic Center plaza's light-show
viewing area, a metro exit's forecourt, a pedestrian street) drawn as rectangles with their corridors,
counters and cameras, in the crowd domain's venue shape (``urbanbrain.domains.crowd.geometry``)."""

from __future__ import annotations

from shapely.geometry import Polygon, box

from urbanbrain.domains.crowd.geometry import Camera, Gate, Venue

# ------------------------------------------------------------------------------------------ construction


def _gate(
    code: str,
    name: str,
    side: str,
    at: float,
    width: float,
    length: float,
    zone: Polygon,
    closed: bool = False,
) -> Gate:
    """A corridor of ``width`` x ``length`` on the ``side`` (w, e, s, n) of the rectangular zone, centred at
    ``at`` along that side."""
    x0, y0, x1, y1 = zone.bounds
    h = width / 2
    if side == "w":
        corridor, line, inward = (
            box(x0 - length, at - h, x0, at + h),
            ((x0, at - h), (x0, at + h)),
            (1.0, 0.0),
        )
        far = box(x0 - length, at - h, x0 - length + 1, at + h)
    elif side == "e":
        corridor, line, inward = (
            box(x1, at - h, x1 + length, at + h),
            ((x1, at - h), (x1, at + h)),
            (-1.0, 0.0),
        )
        far = box(x1 + length - 1, at - h, x1 + length, at + h)
    elif side == "s":
        corridor, line, inward = (
            box(at - h, y0 - length, at + h, y0),
            ((at - h, y0), (at + h, y0)),
            (0.0, 1.0),
        )
        far = box(at - h, y0 - length, at + h, y0 - length + 1)
    elif side == "n":
        corridor, line, inward = (
            box(at - h, y1, at + h, y1 + length),
            ((at - h, y1), (at + h, y1)),
            (0.0, -1.0),
        )
        far = box(at - h, y1 + length - 1, at + h, y1 + length)
    else:
        raise ValueError(side)
    return Gate(code, name, corridor, line, inward, far, closed)


def _cameras(zone: Polygon, n: int, overlap: float = 1.0, along: str = "x") -> tuple[Camera, ...]:
    """``n`` cameras side by side over the zone (along x or y), each view reaching ``overlap`` metres into the
    next: there both count the same people (the double counts at the edges)."""
    x0, y0, x1, y1 = zone.bounds
    lo, hi = (x0, x1) if along == "x" else (y0, y1)
    step = (hi - lo) / n
    cams = []
    for i in range(n):
        a, b = max(lo, lo + i * step - overlap), min(hi, lo + (i + 1) * step + overlap)
        cams.append(Camera(f"CAM{i + 1}", box(a, y0, b, y1) if along == "x" else box(x0, a, x1, b)))
    return tuple(cams)


def civic_plaza() -> Venue:
    """The light show at the Civic Center plaza (市民中心广场): the viewing area in front of the facade,
    entered from the west walk and two south paths, left to the east (toward 市民中心 metro) and north-west;
    an emergency gate to the north-east opens only by a measure."""
    zone = box(-6.0, -4.0, 6.0, 4.0)
    entrances = (
        _gate("E1", "west walk 西侧步道", "w", 0.0, 2.5, 5.0, zone),
        _gate("E2", "south path 1 南侧通道一", "s", -3.0, 2.5, 5.0, zone),
        _gate("E3", "south path 2 南侧通道二", "s", 3.0, 2.5, 5.0, zone),
    )
    exits = (
        _gate("X1", "to the metro 往地铁站", "e", -1.0, 1.6, 5.0, zone),
        _gate("X2", "north-west stairs 西北台阶", "n", -4.5, 1.4, 5.0, zone),
        _gate("X3", "emergency gate 应急通道", "n", 4.5, 2.0, 5.0, zone, closed=True),
    )
    return Venue(
        code="civic_plaza",
        prefix="CC-PLAZA",
        name="市民中心广场灯光秀观演区 / Civic Center plaza, light-show viewing area",
        anchor=(114.0596, 22.5430),
        zone=zone,
        dwell=box(-5.0, -1.0, 5.0, 3.5),
        entrances=entrances,
        exits=exits,
        cameras=_cameras(zone, 2),
        cell=box(-30.0, -20.0, 30.0, 20.0),
    )


def metro_exit() -> Venue:
    """会展中心站 exit: the stairs' top feeds a forecourt (the zone) that people cross to the street; a train
    emptying is a surge at E1. Little dwelling: people pass through, a few wait for others."""
    zone = box(-4.0, -3.0, 4.0, 3.0)
    entrances = (
        _gate("E1", "station stairs 站厅出口楼梯", "w", 0.0, 2.5, 8.0, zone),
        _gate("E2", "Fuhua Rd side 福华路侧", "s", 2.0, 1.6, 4.0, zone),
    )
    exits = (
        _gate("X1", "to Fuhua 3rd Rd 往福华三路", "e", 1.0, 1.4, 5.0, zone),
        _gate("X2", "to Yitian Rd 往益田路", "n", -1.5, 1.4, 5.0, zone),
        _gate("X3", "barrier gap 护栏开口", "n", 2.5, 1.6, 5.0, zone, closed=True),
    )
    return Venue(
        code="metro_exit",
        prefix="HZ-EXIT-B",
        name="会展中心站B出口前广场 / Convention & Exhibition Center station, exit B forecourt",
        anchor=(114.0553, 22.5371),
        zone=zone,
        dwell=box(-3.5, -2.5, 3.5, 2.5),
        entrances=entrances,
        exits=exits,
        cameras=_cameras(zone, 1),
        cell=box(-30.0, -30.0, 30.0, 30.0),
    )


def pedestrian_street() -> Venue:
    """A 华强北步行街 segment: a long street entered from the south end and a side lane, left at the north
    end and a second lane; shoppers stop at the shop fronts (the dwell area)."""
    zone = box(-2.5, -10.0, 2.5, 10.0)
    entrances = (
        _gate("E1", "south end 南端", "s", 0.0, 3.0, 5.0, zone),
        _gate("E2", "west lane 西侧巷", "w", -4.0, 1.6, 5.0, zone),
    )
    exits = (
        _gate("X1", "north end 北端", "n", 0.0, 2.4, 5.0, zone),
        _gate("X2", "east lane 东侧巷", "e", 5.0, 1.4, 5.0, zone),
        _gate("X3", "east arcade 东侧商场通道", "e", -5.0, 1.6, 5.0, zone, closed=True),
    )
    return Venue(
        code="pedestrian_street",
        prefix="HQB-ST",
        name="华强北步行街（振华路至华强北路段）/ Huaqiangbei pedestrian street segment",
        anchor=(114.0852, 22.5446),
        zone=zone,
        dwell=box(-2.0, -8.0, 2.0, 8.0),
        entrances=entrances,
        exits=exits,
        cameras=_cameras(zone, 2, along="y"),
        cell=box(-40.0, -40.0, 40.0, 40.0),
    )


VENUES = {"civic_plaza": civic_plaza, "metro_exit": metro_exit, "pedestrian_street": pedestrian_street}


def venue(code: str) -> Venue:
    try:
        return VENUES[code]()
    except KeyError:
        raise KeyError(f"no venue {code!r}: one of {', '.join(VENUES)}") from None
