"""Simulated daily case volumes of a district, per class and area, and a cases lake built from them.

The volumes have what a district hotline's have: a weekly shape per class, a yearly swing, a trend, public
holidays (fewer reports, a small rebound after), over-dispersed noise, and occasional surges (a blocked drain
street for a week, a typhoon's day across the district). Each seed draws its own district, so a forecast
tuned on one range of seeds is judged on another (``tests/apps/insight/test_forecast.py``).

``write_cases_lake`` turns volumes into case rows in the district lake's layout
(``cases/date=YYYY-MM-DD/*.parquet``): the demo-scale tests and ``benchmarks/lake.py`` read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# The first day of the Spring Festival holiday (春节), by year: the one holiday that moves by weeks.
SPRING_FESTIVAL = {
    2015: date(2015, 2, 18), 2016: date(2016, 2, 7), 2017: date(2017, 1, 27), 2018: date(2018, 2, 15),
    2019: date(2019, 2, 4), 2020: date(2020, 1, 24), 2021: date(2021, 2, 11), 2022: date(2022, 1, 31),
    2023: date(2023, 1, 21), 2024: date(2024, 2, 10), 2025: date(2025, 1, 28), 2026: date(2026, 2, 16),
    2027: date(2027, 2, 5), 2028: date(2028, 1, 25), 2029: date(2029, 2, 12), 2030: date(2030, 2, 2),
}  # fmt: skip


def public_holidays(years: range) -> frozenset[date]:
    """China's public holidays, approximately: New Year, Spring Festival (7 days), Qingming, Labour Day
    (5 days), Dragon Boat, Mid-Autumn and National Day (7 days). Moving feasts other than the Spring
    Festival are placed on a fixed day: close enough for a simulated district."""
    days: set[date] = set()
    for y in years:
        days.add(date(y, 1, 1))
        sf = SPRING_FESTIVAL.get(y, date(y, 2, 5))
        days |= {sf + timedelta(i) for i in range(7)}
        days |= {date(y, 4, 4), date(y, 4, 5), date(y, 6, 10), date(y, 9, 20)}
        days |= {date(y, 5, 1) + timedelta(i) for i in range(5)}
        days |= {date(y, 10, 1) + timedelta(i) for i in range(7)}
    return frozenset(days)


@dataclass(frozen=True)
class Surge:
    class_index: int | None  # None: every class
    area_index: int | None  # None: every area
    start: int  # day index
    days: int
    factor: float


@dataclass
class Volumes:
    """Daily counts ``counts[class, area, day]`` from ``start`` on, and what made them."""

    start: date
    classes: list[str]
    areas: list[str]
    counts: np.ndarray
    expected: np.ndarray  # the mean each count was drawn around (before noise and surges)
    holidays: frozenset[date]
    surges: list[Surge] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(i) for i in range(self.counts.shape[-1])]


def simulate_volumes(
    seed: int,
    start: date,
    n_days: int,
    classes: list[str],
    areas: list[str],
    per_day: float | None = None,
    surges_per_series_year: float = 0.6,
) -> Volumes:
    """A district's daily case counts per class and area over ``n_days`` from ``start``."""
    rng = np.random.default_rng(seed)
    nc, na = len(classes), len(areas)
    per_day = per_day if per_day is not None else float(rng.uniform(300, 3000))
    class_share = rng.dirichlet(np.full(nc, 2.0))
    area_share = rng.dirichlet(np.full(na, 3.0))
    t = np.arange(n_days)
    day_list = [start + timedelta(int(i)) for i in t]
    dow = np.array([d.weekday() for d in day_list])
    doy = np.array([d.timetuple().tm_yday for d in day_list])

    # Weekly shape per class: a weekend level of its own and a little wobble across weekdays.
    weekend = rng.uniform(0.45, 1.15, nc)
    weekly = 1 + rng.normal(0, 0.08, (nc, 7))
    weekly[:, 5] *= weekend
    weekly[:, 6] *= weekend * rng.uniform(0.85, 1.05, nc)
    weekly /= weekly.mean(axis=1, keepdims=True)
    # A yearly swing (summer rain, winter heating...) and a trend, per class.
    amp = rng.uniform(0.0, 0.3, nc)
    phase = rng.uniform(0, 2 * np.pi, nc)
    yearly = 1 + amp[:, None] * np.cos(2 * np.pi * doy[None, :] / 365.25 + phase[:, None])
    growth = rng.uniform(-0.15, 0.35) + rng.normal(0, 0.08, nc)
    trend = np.exp(np.log1p(np.clip(growth, -0.5, 1.0))[:, None] * t[None, :] / 365.25)
    # Holidays: fewer reports, then a rebound the first working day after.
    holidays = public_holidays(range(start.year, (start + timedelta(n_days)).year + 1))
    is_hol = np.array([d in holidays for d in day_list])
    after = np.r_[False, is_hol[:-1] & ~is_hol[1:]]
    hol_factor = rng.uniform(0.35, 0.85, nc)
    rebound = rng.uniform(1.0, 1.3, nc)
    special = np.ones((nc, n_days))
    special[:, is_hol] = hol_factor[:, None]
    special[:, after] = rebound[:, None]

    mean = (
        per_day
        * class_share[:, None, None]
        * area_share[None, :, None]
        * (weekly[:, dow] * yearly * trend * special)[:, None, :]
    )
    # Mixes drift: an area's share of a class wanders slowly (a new estate, a market that closed).
    drift = np.exp(np.cumsum(rng.normal(0, 0.004, (nc, na, n_days)), axis=2))
    mean = mean * drift

    surges: list[Surge] = []
    n_surges = rng.poisson(surges_per_series_year * nc * na * n_days / 365.25 / 10)
    for _ in range(n_surges):
        surges.append(
            Surge(
                int(rng.integers(nc)),
                int(rng.integers(na)),
                int(rng.integers(n_days)),
                int(rng.integers(2, 8)),
                float(rng.uniform(1.8, 4.0)),
            )  # fmt: skip
        )
    for _ in range(rng.poisson(n_days / 365.25)):  # a typhoon or rainstorm: the whole district, a day or two
        surges.append(
            Surge(
                None, None, int(rng.integers(n_days)), int(rng.integers(1, 3)), float(rng.uniform(1.4, 2.2))
            )
        )
    surged = mean.copy()
    for s in surges:
        ci = slice(None) if s.class_index is None else s.class_index
        ai = slice(None) if s.area_index is None else s.area_index
        surged[ci, ai, s.start : s.start + s.days] *= s.factor

    dispersion = rng.uniform(0.01, 0.06)  # variance = mean + dispersion * mean^2
    noisy = surged * rng.gamma(1 / dispersion, dispersion, surged.shape)
    counts = rng.poisson(noisy)
    return Volumes(start, list(classes), list(areas), counts, mean, holidays, surges)


# --- a cases lake from volumes -------------------------------------------------------------------------------

HOURLY = np.array([1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 9, 8, 6, 6, 7, 8, 8, 9, 9, 8, 6, 4, 3, 2], dtype=float)
DISTRICT_BOX = (114.00, 22.50, 114.10, 22.57)  # Futian, roughly (lon, lat)


@dataclass(frozen=True)
class CaseClass:
    code: str
    major: str
    department: str
    resolve_hours: float


def futian_areas(streets: int = 10, communities_per_street: int = 10) -> list[tuple[str, str]]:
    """(street_code, community_code) pairs in the shape of Futian's codes."""
    return [
        (f"440304{s:03d}", f"440304{s:03d}{c:03d}")
        for s in range(1, streets + 1)
        for c in range(1, communities_per_street + 1)
    ]


STATES = ["closed", "resolved", "in_progress", "dispatched"]


def _dict(indices: np.ndarray, values: Any) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(indices, np.int32)), pa.array(list(values), pa.string())
    )


def _plain_strings(schema: pa.Schema) -> pa.Schema:
    """The lake's schema: dictionary columns are plain strings there (Parquet dictionary-encodes them anyway)."""
    return pa.schema([pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f for f in schema])


def write_cases_lake(
    root: Path,
    counts: np.ndarray,
    start: date,
    classes: list[CaseClass],
    areas: list[tuple[str, str]],
    *,
    seed: int = 0,
    as_of: datetime | None = None,
    versions_share: float = 0.1,
    addresses: int = 50_000,
    utc_offset_hours: int = 8,
) -> int:
    """Case rows for ``counts[class, area, day]`` under ``root/cases/date=YYYY-MM-DD/``, one file per day
    (plus a second file holding older versions of some cases, as the lake keeps corrections). Cases reported
    long before ``as_of`` are closed, recent ones still open. Returns the number of rows written."""
    rng = np.random.default_rng(seed)
    nc, na, nd = counts.shape
    as_of = as_of or datetime.combine(start + timedelta(nd), datetime.min.time())
    # Cases come from addresses (buildings, street corners), each in one community.
    addr_area = rng.integers(0, na, addresses)
    centres = rng.uniform(DISTRICT_BOX[:2], DISTRICT_BOX[2:], (na, 2))
    addr_xy = np.round(centres[addr_area] + rng.normal(0, 0.004, (addresses, 2)), 6)
    by_area = np.argsort(addr_area, kind="stable")  # addresses grouped by area: area a holds a run of them
    first = np.searchsorted(addr_area[by_area], np.arange(na))
    size = np.maximum(np.bincount(addr_area, minlength=na), 1)
    codes = np.array([c.code for c in classes])
    majors = np.array([c.major for c in classes])
    depts = np.array([c.department for c in classes])
    hours = np.array([c.resolve_hours for c in classes])
    streets = np.array([s for s, _ in areas])
    communities = np.array([c for _, c in areas])
    hourly_p = HOURLY / HOURLY.sum()
    offset = np.timedelta64(utc_offset_hours, "h")
    as_of64 = np.datetime64(as_of.replace(tzinfo=None), "us")
    next_id = 1
    written = 0
    for d in range(nd):
        day = start + timedelta(d)
        n_cd = counts[:, :, d].ravel()
        n = int(n_cd.sum())
        if n == 0:
            continue
        flat = np.repeat(np.arange(nc * na), n_cd)
        ci, ai = flat // na, flat % na
        ids = np.arange(next_id, next_id + n, dtype=np.int64)
        next_id += n
        local_midnight = np.datetime64(day, "us")
        secs = (rng.choice(24, n, p=hourly_p) * 3600 + rng.integers(0, 3600, n)).astype("timedelta64[s]")
        reported = local_midnight + secs - offset
        registered = reported + rng.integers(60, 1800, n).astype("timedelta64[s]")
        dispatched = registered + rng.integers(60, 3600, n).astype("timedelta64[s]")
        accepted = dispatched + rng.integers(60, 3600, n).astype("timedelta64[s]")
        limit = (hours[ci] * 3600).astype("timedelta64[s]")
        resolve_due = dispatched + limit
        # Most cases are resolved inside their limit; some late.
        took = (hours[ci] * 3600 * rng.gamma(2.0, 0.35, n)).astype("timedelta64[s]")
        resolved = accepted + took
        closed = resolved + rng.integers(600, 86400, n).astype("timedelta64[s]")
        is_closed = closed <= as_of64
        is_resolved = resolved <= as_of64
        is_accepted = accepted <= as_of64
        # Strings as dictionary arrays over small vocabularies: no Python string per row, and Parquet
        # stores them dictionary-encoded, as the lake's own writes of such columns end up.
        state_index = np.where(is_closed, 0, np.where(is_resolved, 1, np.where(is_accepted, 2, 3)))
        state = _dict(state_index, STATES)
        nat = np.datetime64("NaT", "us")
        addr = by_area[np.minimum(first[ai] + rng.integers(0, 1 << 30, n) % size[ai], addresses - 1)]
        table = pa.table(
            {
                "case_id": ids,
                "number": pc.binary_join_element_wise(
                    f"AJ-{day:%Y%m%d}-",
                    pc.utf8_lpad(pc.cast(pa.array(np.arange(n)), pa.string()), 6, "0"),
                    "",
                ),
                "version": np.full(n, 4, dtype=np.int64),
                "state": state,
                "source": _dict(np.zeros(n, np.int32), ["hotline"]),
                "category_code": _dict(ci, codes),
                "major_code": _dict(ci, majors),
                "request_kind": _dict(np.zeros(n, np.int32), ["complaint"]),
                "priority": rng.integers(1, 5, n).astype(np.int64),
                "title": _dict(ci, codes),
                "description": pa.nulls(n, pa.string()),
                "lon": addr_xy[addr, 0],
                "lat": addr_xy[addr, 1],
                "address": pa.nulls(n, pa.string()),
                "street_code": _dict(ai, streets),
                "community_code": _dict(ai, communities),
                "grid_code": pa.nulls(n, pa.string()),
                "facility_code": pa.nulls(n, pa.string()),
                "department_code": _dict(ci, depts),
                "reporter_name": pa.nulls(n, pa.string()),
                "reporter_contact": pa.nulls(n, pa.string()),
                "emergency": rng.random(n) < 0.01,
                "escalation_level": np.zeros(n, dtype=np.int64),
                "reported_at": reported.astype("datetime64[us]"),
                "registered_at": registered.astype("datetime64[us]"),
                "dispatched_at": dispatched.astype("datetime64[us]"),
                "accepted_at": np.where(is_accepted, accepted.astype("datetime64[us]"), nat),
                "resolved_at": np.where(is_resolved, resolved.astype("datetime64[us]"), nat),
                "verified_at": np.where(is_closed, closed.astype("datetime64[us]"), nat),
                "closed_at": np.where(is_closed, closed.astype("datetime64[us]"), nat),
                "accept_due_at": (dispatched + np.timedelta64(2, "h")).astype("datetime64[us]"),
                "resolve_due_at": resolve_due.astype("datetime64[us]"),
                "sla_breached_at": np.where(
                    (resolved > resolve_due) & (resolve_due <= as_of64),
                    resolve_due.astype("datetime64[us]"),
                    nat,
                ),
                "satisfaction": pa.nulls(n, pa.int64()),
                "merged_into_id": pa.nulls(n, pa.int64()),
                "updated_at": np.minimum(closed, as_of64).astype("datetime64[us]"),
                "landed_at": np.minimum(closed, as_of64).astype("datetime64[us]"),
            }
        )
        folder = root / "cases" / f"date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        table = table.cast(_plain_strings(table.schema))
        pq.write_table(table, folder / "part-0.parquet", compression="zstd", compression_level=1,
                       row_group_size=122_880)  # fmt: skip
        written += n
        # Older versions of some cases (still dispatched then): the lake keeps them, the reader drops them.
        old = np.flatnonzero(rng.random(n) < versions_share)
        if len(old):
            earlier = table.take(old)
            earlier = earlier.set_column(earlier.schema.get_field_index("version"), "version",
                                         pa.array(np.full(len(old), 2, dtype=np.int64)))  # fmt: skip
            earlier = earlier.set_column(earlier.schema.get_field_index("state"), "state",
                                         pa.array(np.full(len(old), "dispatched"), pa.string()))  # fmt: skip
            pq.write_table(earlier, folder / "part-1.parquet", compression="zstd", compression_level=1)
            written += len(old)
    return written
