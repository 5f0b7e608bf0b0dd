"""Tune the crowd warnings on the ``tune`` scenario set only (never on ``report``, which
``benchmarks/crowd_warning.py`` scores): a small grid over the estimator's and the warnings' settings, each
judged by the same measures, with the zone's estimator and warnings run directly on the devices' messages
(the platform runs the same classes; crowd_warning.py checks the platform's own alarms).

    python benchmarks/crowd_tune.py [--n 30] [--cache var/crowd-scenarios]

Prints the settings ranked: no false warning first, then fewest late or missed, then the longest median lead.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from urbanbrain.domains.crowd.estimate import Params, ZoneEstimator  # noqa: E402
from urbanbrain.domains.crowd.levels import Thresholds  # noqa: E402
from urbanbrain.domains.crowd.warnings import FORECAST, Policy, ZoneWarnings  # noqa: E402
from urbanbrain.simulate.crowd import publish  # noqa: E402
from urbanbrain.simulate.crowd.suite import Result, run_set  # noqa: E402

GRID = {
    "camera_miss_per_density": (0.05, 0.07),
    "flow_window_s": (120.0, 180.0, 300.0),
    "yellow_within": (15.0, 20.0),
    "hold_ticks": (2, 3),
    "yellow_hold_ticks": (2, 4, 6),
}


def first_warning(r: Result, start_ts: float, params: Params, policy: Policy) -> float | None:
    venue = r.scenario.site()
    area = round(venue.zone_area_m2, 1)
    inputs = {d["device_id"]: d["role"] for d in publish.zone_body(venue)["inputs"]}
    z = ZoneEstimator(area, inputs, params=params)
    w = ZoneWarnings(Thresholds(), policy)
    for m in r.messages(start_ts):
        z.add(m["device"], m["ts"], m["values"])
    for snap in z.advance(until=start_ts + r.scenario.duration_s):
        for c in w.judge(snap):
            if c.kind == "raise" and (c.alarm_type == FORECAST or c.level in ("orange", "red")):
                return snap.at - start_ts
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "crowd-scenarios")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    began = time.monotonic()
    results = run_set("tune", args.cache, n=args.n, workers=args.workers)
    print(f"{len(results)} tune scenarios ({time.monotonic() - began:.0f} s to simulate or load)")
    start_ts = 1_700_000_000.0
    ranked = []
    for miss, window, yellow, hold, yellow_hold in itertools.product(*GRID.values()):
        params = Params(camera_miss_per_density=miss, flow_window_s=window)
        policy = Policy(
            horizon_min=yellow,
            lead_levels=((5.0, "red"), (10.0, "orange"), (yellow, "yellow")),
            hold_ticks=hold,
            yellow_hold_ticks=max(hold, yellow_hold),
        )
        leads, late, false = [], 0, 0
        for r in results:
            warn = first_warning(r, start_ts, params, policy)
            danger = r.danger_at_s
            if danger is None:
                false += warn is not None
            elif warn is None or warn > danger:
                late += 1
            else:
                leads.append((danger - warn) / 60)
        median = statistics.median(leads) if leads else 0.0
        ranked.append((false, late, -median, (miss, window, yellow, hold, yellow_hold)))
    ranked.sort()
    print("false  late/missed  median lead  camera_miss  flow_window  yellow_within  hold_ticks  yellow_hold")
    for false, late, neg, (miss, window, yellow, hold, yh) in ranked[:25]:
        print(
            f"{false:5d}  {late:11d}  {-neg:8.1f} min  {miss:11.2f}  {window:9.0f} s  {yellow:9.0f} min  "
            f"{hold:10d}  {yh:11d}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
