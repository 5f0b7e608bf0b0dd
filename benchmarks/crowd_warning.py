"""Crowd warnings on simulated crowds (issue 17's evaluation): lead time before danger, false warnings,
the control effect, and the forecast's error, beside the naive rules, on scenarios the rules were not
built or tuned on.

    python benchmarks/crowd_warning.py [--set report] [--n 30] [--cache var/crowd-scenarios] [--control]

Each scenario of the set (``urbanbrain.simulate.crowd.suite``: JuPedSim runs at three Futian venues, with
counter noise and drop-outs) is fed to a fresh platform (SQLite, the demo district's registry) through the
sensing HTTP door, as its virtual counters, cameras and phone cell report it; the warnings are read back
as the platform's alarms. Measured:

- **lead time**: for each dangerous scenario (the true density reaches 5 persons/m²), the time between the
  first warning (a ``crowd.forecast`` alarm, or a ``crowd.density`` alarm at orange or red) and the moment the
  truth first reaches 5; negative = late; none = missed;
- **false warnings**: any such warning in a scenario whose truth stays below 5;
- the same for two baselines computed from the same messages: a plain current-density threshold (the
  cameras' count over the zone's area reaching 5) and the scenic areas' rule (occupancy by the cameras
  reaching 80% of the capacity, the capacity being 5 persons/m² of the zone);
- **forecast error**: mean absolute error of the occupancy 10 minutes ahead (the zone's forecast), beside a
  naive last-value forecast (the estimate now), over every 30 s tick of every scenario;
- with ``--control``: each dangerous scenario run again with every entrance closed at our first warning
  (JuPedSim); the share whose peak stays under 5 persons/m².
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from urbanbrain.api.app import create_app  # noqa: E402
from urbanbrain.core import migrate  # noqa: E402
from urbanbrain.core.auth.actions import do_create_api_key  # noqa: E402
from urbanbrain.core.auth.principal import SYSTEM  # noqa: E402
from urbanbrain.core.config import Settings  # noqa: E402
from urbanbrain.core.context import Platform  # noqa: E402
from urbanbrain.demo.seed import do_seed_futian  # noqa: E402
from urbanbrain.domains.crowd.actions import do_install_device_types, do_save_zone  # noqa: E402
from urbanbrain.domains.crowd.engine import engine  # noqa: E402
from urbanbrain.domains.crowd.estimate import ZoneEstimator  # noqa: E402
from urbanbrain.domains.crowd.physics import Measure  # noqa: E402
from urbanbrain.domains.crowd.schemas import ZoneSave  # noqa: E402
from urbanbrain.domains.sensing.actions import do_provision_device  # noqa: E402
from urbanbrain.domains.sensing.models import Alarm  # noqa: E402
from urbanbrain.domains.sensing.schemas import DeviceCreate  # noqa: E402
from urbanbrain.simulate.crowd import publish  # noqa: E402
from urbanbrain.simulate.crowd.suite import Result, run_set  # noqa: E402

DANGER = 5.0
SCENIC_RATIO = 0.8  # 景区: warn at 80% of the maximum capacity


def _settings(url: str, data: Path) -> Settings:
    return Settings(database_url=url, data_dir=data, pii_key="11" * 32, secret_key="bench-" + "x" * 40,
                    worker_seconds=0)  # fmt: skip


def template(root: Path) -> Path:
    """A migrated SQLite database with the demo district's areas and the crowd device types."""
    path = root / "template.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    p = Platform.build(_settings(url, root / "tmpl"))
    try:
        with p.db.session() as s:
            do_seed_futian(s, p, SYSTEM, scale=0.02)
            do_install_device_types(s, p, SYSTEM)
    finally:
        p.close()
    return path


def run_on_platform(result: Result, db: Path, root: Path, start_ts: float) -> list[tuple[str, str, float]]:
    """The scenario's messages through the HTTP door of a fresh platform; its crowd alarms as
    (alarm type, level, event time)."""
    url = f"sqlite:///{db}"
    platform = Platform.build(_settings(url, root))
    venue = result.scenario.site()
    with platform.db.session() as s:
        for body in publish.device_bodies(venue):
            do_provision_device(s, platform, SYSTEM, DeviceCreate.model_validate(body))
        do_save_zone(s, platform, SYSTEM, venue.prefix, ZoneSave.model_validate(publish.zone_body(venue)))
        _, key = do_create_api_key(s, platform.clock, SYSTEM, name="bench", scopes=["devices:write"])
    messages = result.messages(start_ts)
    try:
        with TestClient(create_app(platform=platform)) as client:
            platform.caches["sensing.pipeline"].reload()
            publish.stream(client, messages, api_key=key, speed=0)
            platform.caches["sensing.pipeline"].drain()
            engine(platform).advance(start_ts + result.scenario.duration_s + 60)
            with platform.db.session() as s:
                alarms = s.scalars(
                    select(Alarm).where(Alarm.origin == f"crowd:{venue.prefix}").order_by(Alarm.id)
                )
                return [(a.alarm_type, a.level, a.event_at.timestamp() - start_ts) for a in alarms]
    finally:
        platform.close()


def first_warning(alarms: list[tuple[str, str, float]]) -> float | None:
    times = [t for kind, level, t in alarms if kind == "crowd.forecast" or level in ("orange", "red")]
    return min(times, default=None)


def naive(result: Result, start_ts: float, area: float) -> tuple[float | None, float | None]:
    """The baselines' first warning times from the cameras' count: density ≥ 5, and 80% of capacity."""
    counts: dict[float, float] = {}
    for m in result.messages(start_ts):
        if "head_count" in m["values"]:
            counts[m["ts"]] = counts.get(m["ts"], 0.0) + m["values"]["head_count"]
    threshold = next((t - start_ts for t, n in sorted(counts.items()) if n / area >= DANGER), None)
    scenic = next(
        (t - start_ts for t, n in sorted(counts.items()) if n >= SCENIC_RATIO * DANGER * area), None
    )
    return threshold, scenic


def forecast_errors(
    result: Result, start_ts: float, area: float, inputs: dict[str, str]
) -> tuple[list, list]:
    """|forecast 10 min ahead − truth then| and |estimate now − truth 10 min later|, every tick."""
    z = ZoneEstimator(area, inputs)
    for m in result.messages(start_ts):
        z.add(m["device"], m["ts"], m["values"])
    snaps = z.advance(until=start_ts + result.scenario.duration_s)
    rec = result.record
    truth = dict(zip([start_ts + t for t in rec.t_s], rec.in_zone, strict=True))
    ours, last = [], []
    for s in snaps:
        later = truth.get(s.at + 600)
        if later is None:
            continue
        ten = next(f for f in s.forecast if f.minutes_ahead == 10)
        ours.append(abs(ten.density * area - later))
        last.append(abs(s.occupancy - later))
    return ours, last


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="report", choices=["tune", "report", "holdout"])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "crowd-scenarios")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--control", action="store_true", help="re-run dangerous scenarios with inflow cut")
    args = ap.parse_args(argv)

    began = time.monotonic()
    results = run_set(args.set, args.cache, n=args.n, workers=args.workers)
    print(
        f"{len(results)} scenarios of the {args.set} set ({time.monotonic() - began:.0f} s to simulate or load)"
    )
    rows: list[dict[str, Any]] = []
    errs_ours: list[float] = []
    errs_last: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tmpl = template(root)
        start_ts = (time.time() - 6 * 3600) // 60 * 60  # event time: this evening, on a whole minute
        for i, r in enumerate(results):
            db = root / f"s{i}.sqlite3"
            shutil.copy(tmpl, db)
            venue = r.scenario.site()
            area = round(venue.zone_area_m2, 1)
            alarms = run_on_platform(r, db, root / f"d{i}", start_ts)
            threshold, scenic = naive(r, start_ts, area)
            inputs = {d["device_id"]: d["role"] for d in publish.zone_body(venue)["inputs"]}
            o, last = forecast_errors(r, start_ts, area, inputs)
            errs_ours += o
            errs_last += last
            rows.append({"key": r.scenario.key, "venue": r.scenario.venue, "danger": r.danger_at_s,
                         "peak": r.record.peak_density, "ours": first_warning(alarms), "threshold": threshold,
                         "scenic": scenic, "alarms": alarms})  # fmt: skip
            d = r.danger_at_s
            print(f"  {r.scenario.key:10} {r.scenario.venue:18} peak {r.record.peak_density:4.1f}  danger "
                  f"{'-' if d is None else f'{d / 60:5.1f} min'}  ours {_lead(rows[-1]['ours'], d)}  "
                  f"threshold {_lead(threshold, d)}  80% {_lead(scenic, d)}", flush=True)  # fmt: skip
    print()
    print(table(rows))
    if errs_ours:
        ours, last = statistics.fmean(errs_ours), statistics.fmean(errs_last)
        print(f"\nforecast of the occupancy 10 min ahead, MAE over {len(errs_ours)} ticks: ours {ours:.1f} "
              f"persons, last value {last:.1f} (the naive error is {last / ours:.2f}x ours)")  # fmt: skip
    if args.control:
        control(results, rows, args.cache)
    return 0


def _lead(warn: float | None, danger: float | None) -> str:
    if danger is None:
        return "false" if warn is not None else "quiet"
    if warn is None:
        return "MISSED"
    return f"{(danger - warn) / 60:+5.1f} min"


def table(rows: list[dict[str, Any]]) -> str:
    out = ["| rule | dangerous: median lead | late or missed | safe: false warnings |", "|---|---|---|---|"]
    dangerous = [r for r in rows if r["danger"] is not None]
    safe = [r for r in rows if r["danger"] is None]
    for name, col in (("ours (forecast + density)", "ours"), ("current density ≥ 5", "threshold"),
                      ("80% of capacity", "scenic")):  # fmt: skip
        leads = [
            (r["danger"] - r[col]) / 60 for r in dangerous if r[col] is not None and r[col] <= r["danger"]
        ]
        late = sum(1 for r in dangerous if r[col] is None or r[col] > r["danger"])
        false = sum(1 for r in safe if r[col] is not None)
        median = f"{statistics.median(leads):.1f} min" if leads else "-"
        out.append(f"| {name} | {median} (n={len(dangerous)}) | {late} | {false} of {len(safe)} |")
    return "\n".join(out)


def control(results: list[Result], rows: list[dict[str, Any]], cache: Path) -> None:
    """Every entrance closed at our first warning: does the peak stay under 5?"""
    held = tried = 0
    for r, row in zip(results, rows, strict=True):
        if row["danger"] is None or row["ours"] is None:
            continue
        cut = tuple(
            Measure("close_entrance", g.code, max(row["ours"], 0.0)) for g in r.scenario.site().entrances
        )
        rec = r.scenario.record(cache, cut)
        tried += 1
        held += rec.peak_density < DANGER
        print(f"  {r.scenario.key}: inflow cut at {row['ours'] / 60:.1f} min, peak {rec.peak_density:.2f}")
    if tried:
        print(
            f"control effect: the peak stayed under {DANGER} in {held} of {tried} ({100 * held / tried:.0f}%)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
