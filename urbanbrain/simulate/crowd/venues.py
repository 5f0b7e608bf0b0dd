"""Futian venues for the crowd simulator, as data (``venues.toml``): three small venues (the Civic Center
plaza's light-show viewing area, a metro exit's forecourt, a pedestrian street) drawn as rectangles with their
corridors, counters and cameras, built here in the crowd domain's venue shape
(``urbanbrain.domains.crowd.geometry``)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

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


def _build(code: str, spec: dict[str, Any]) -> Venue:
    """A venue from its row of ``venues.toml``."""
    zone = box(*spec["zone"])
    closed = set(spec.get("closed", ()))

    def gates(rows: list[list[Any]]) -> tuple[Gate, ...]:
        return tuple(
            _gate(str(c), str(n), str(side), float(at), float(w), float(length), zone, closed=c in closed)
            for c, n, side, at, w, length in rows
        )

    cams = spec["cameras"]
    return Venue(
        code=code,
        prefix=spec["prefix"],
        name=spec["name"],
        anchor=(spec["anchor"][0], spec["anchor"][1]),
        zone=zone,
        dwell=box(*spec["dwell"]),
        entrances=gates(spec["entrances"]),
        exits=gates(spec["exits"]),
        cameras=_cameras(zone, cams["count"], along=cams["along"]),
        cell=box(*spec["cell"]),
    )


_SPECS: dict[str, dict[str, Any]] = tomllib.loads(
    (Path(__file__).with_name("venues.toml")).read_text("utf-8")
)
VENUES: dict[str, Callable[[], Venue]] = {code: partial(_build, code, spec) for code, spec in _SPECS.items()}


def venue(code: str) -> Venue:
    try:
        return VENUES[code]()
    except KeyError:
        raise KeyError(f"no venue {code!r}: one of {', '.join(VENUES)}") from None
