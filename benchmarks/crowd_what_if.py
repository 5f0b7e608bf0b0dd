"""How well the crowd what-if predicts a measure's effect, on simulated evenings it was not built from.

    python benchmarks/crowd_what_if.py [--set report] [--n 30] [--k 8] [--minutes 10] [--cache var/crowd-scenarios]

For each of the first ``k`` dangerous scenarios of the set (``urbanbrain.simulate.crowd.suite``: JuPedSim
evenings at three Futian venues, with noisy counters and drop-outs), the scenario is fed to a fresh platform
through the sensing HTTP door until the platform's first warning. There, as the operator would, the what-if
closes the busiest entrance for the next ``minutes`` (``POST /api/v1/crowd/zones/{code}/what-if``, polled
until done). The what-if knows only what the platform knows: the zone's outline and area, where its counters
stand, the estimate and each counter's rates. It does not know the venue's corridors, gate widths, dwell
times or the evening's inflow curve.

The truth is the same evening simulated again with that entrance closed at that moment (and the evening as
it was, without). Measured, over the ``minutes`` after the warning:

- the peak density without and with the measure, predicted and true (mean absolute error);
- the measure's effect on the peak (without − with), predicted and true; whether the what-if ranks it
  right (it says the measure helps when it truly does);
- beside a baseline from the same state: flow arithmetic (the zone's forecast, the occupancy plus the net
  flow times the minutes, with the closed entrance's arrivals taken off).
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from crowd_warning import _settings, first_warning, run_on_platform, template  # noqa: E402

from urbanbrain.api.app import create_app  # noqa: E402
from urbanbrain.core.auth.actions import do_create_api_key  # noqa: E402
from urbanbrain.core.auth.principal import SYSTEM  # noqa: E402
from urbanbrain.core.context import Platform  # noqa: E402
from urbanbrain.domains.crowd import actions  # noqa: E402
from urbanbrain.domains.crowd.engine import engine  # noqa: E402
from urbanbrain.domains.crowd.models import WhatIf, Zone, ZoneState  # noqa: E402
from urbanbrain.domains.crowd.physics import Measure, Record  # noqa: E402
from urbanbrain.domains.crowd.schemas import WhatIfRequest, ZoneSave  # noqa: E402
from urbanbrain.domains.sensing.actions import do_provision_device  # noqa: E402
from urbanbrain.domains.sensing.schemas import DeviceCreate  # noqa: E402
from urbanbrain.simulate.crowd import publish  # noqa: E402
from urbanbrain.simulate.crowd.suite import Result, run_set  # noqa: E402


def peak(rec: Record, start_s: float, minutes: float) -> float | None:
    """The true peak density over ``[start_s, start_s + minutes]`` (None: the run ended before)."""
    window = [d for t, d in zip(rec.t_s, rec.density, strict=True) if start_s <= t <= start_s + minutes * 60]
    return max(window) if window and rec.t_s[-1] >= start_s + minutes * 60 - 1 else None


def what_if_at(result: Result, db: Path, root: Path, start_ts: float, at_s: float, entrance: str,
               minutes: int) -> dict[str, Any]:  # fmt: skip
    """Feed the scenario up to ``at_s`` through the HTTP door, then ask the what-if to close ``entrance``."""
    platform = Platform.build(_settings(f"sqlite:///{db}", root))
    venue = result.scenario.site()
    with platform.db.session() as s:
        for body in publish.device_bodies(venue):
            do_provision_device(s, platform, SYSTEM, DeviceCreate.model_validate(body))
        actions.do_save_zone(
            s, platform, SYSTEM, venue.prefix, ZoneSave.model_validate(publish.zone_body(venue))
        )
        _, key = do_create_api_key(s, platform.clock, SYSTEM, name="bench", scopes=["devices:write"])
    until = start_ts + at_s
    messages = [m for m in result.messages(start_ts) if m["ts"] <= until]
    try:
        with TestClient(create_app(platform=platform)) as client:
            platform.caches["sensing.pipeline"].reload()
            publish.stream(client, messages, api_key=key, speed=0)
            platform.caches["sensing.pipeline"].drain()
            engine(platform).advance(until)
            with platform.db.session() as s:
                zone = s.scalars(select(Zone).where(Zone.code == venue.prefix)).one()
                state = s.get(ZoneState, zone.id)
                assert state is not None
                forecast = {"occupancy": state.occupancy, "flow": state.flow_per_min,
                            "gates": dict(state.gates or {}), "area": zone.area_m2}  # fmt: skip
                body = {"measure": {"kind": "close_entrance", "input": entrance}, "minutes": minutes}
                row = actions.do_request_what_if(
                    s, platform, SYSTEM, zone, WhatIfRequest.model_validate(body)
                )
                what_if_id = row.id
            while True:
                time.sleep(1.0)
                with platform.db.session() as s:
                    done = s.get(WhatIf, what_if_id)
                    assert done is not None
                    if done.status != "running":
                        return {"row": {"status": done.status, "result": done.result, "error": done.error,
                                        "start": done.start, "took": done.computed_in_s}, **forecast}  # fmt: skip
    finally:
        platform.close()


def arithmetic(state: dict[str, Any], entrance: str, minutes: int) -> tuple[float, float]:
    """The baseline's peak density without and with the entrance closed: the occupancy plus the net flow
    times the minutes (a falling crowd peaks now), the entrance's arrivals taken off for the second."""
    n, flow, area = state["occupancy"], state["flow"], state["area"]
    cut = state["gates"].get(entrance, [0.0, 0.0])[0]
    without = max(n, n + flow * minutes) / area
    with_ = max(n, n + (flow - cut) * minutes) / area
    return without, with_


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="report", choices=["tune", "report"])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--k", type=int, default=8, help="how many dangerous scenarios to try the what-if on")
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "crowd-scenarios")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    began = time.monotonic()
    results = [r for r in run_set(args.set, args.cache, n=args.n, workers=args.workers) if r.dangerous]
    print(f"{len(results)} dangerous scenarios of the {args.set} set ({time.monotonic() - began:.0f} s)")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tmpl = template(root)
        start_ts = (time.time() - 6 * 3600) // 60 * 60
        for i, r in enumerate(results):
            if len(rows) >= args.k:
                break
            shutil.copy(tmpl, root / f"w{i}.sqlite3")
            warned = first_warning(run_on_platform(r, root / f"w{i}.sqlite3", root / f"dw{i}", start_ts))
            if warned is None:
                continue
            at = max(30.0, (warned // 30) * 30)  # the tick the warning was judged at
            venue = r.scenario.site()
            gate = "E1"  # the main entrance of every venue (the most arrivals)
            true_without = peak(r.record, at, args.minutes)
            true_with_rec = r.scenario.record(args.cache, (Measure("close_entrance", gate, at),))
            true_with = peak(true_with_rec, at, args.minutes)
            if true_without is None or true_with is None:
                print(f"  {r.scenario.key}: the run ends before the window closes; left out")
                continue
            shutil.copy(tmpl, root / f"q{i}.sqlite3")
            asked = what_if_at(r, root / f"q{i}.sqlite3", root / f"dq{i}", start_ts, at,
                               f"{venue.prefix}-{gate}", args.minutes)  # fmt: skip
            row = asked["row"]
            if row["status"] != "done":
                print(f"  {r.scenario.key}: the what-if failed: {row['error']}")
                continue
            pw, pm = row["result"]["without"]["peak_density"], row["result"]["with"]["peak_density"]
            aw, am = arithmetic(asked, f"{venue.prefix}-{gate}", args.minutes)
            rows.append({"key": r.scenario.key, "true": (true_without, true_with), "what_if": (pw, pm),
                         "arith": (aw, am), "scale": row["start"]["scale"], "took": row["took"]})  # fmt: skip
            print(f"  {r.scenario.key} {r.scenario.venue:18} at {at / 60:4.1f} min: peak without/with "
                  f"true {true_without:.2f}/{true_with:.2f}  what-if {pw:.2f}/{pm:.2f}  "
                  f"arithmetic {aw:.2f}/{am:.2f}  ({row['took']:.0f} s)", flush=True)  # fmt: skip
    if not rows:
        print("no scenario to judge")
        return 1
    print()
    print(f"| over {len(rows)} dangerous evenings, {args.minutes} min after the first warning | what-if "
          "(JuPedSim) | flow arithmetic |")  # fmt: skip
    print("|---|---|---|")
    for name, i in (("peak without the measure", 0), ("peak with the measure", 1)):
        ours = statistics.fmean(abs(r["what_if"][i] - r["true"][i]) for r in rows)
        base = statistics.fmean(abs(r["arith"][i] - r["true"][i]) for r in rows)
        print(f"| {name}: mean absolute error, p/m² | {ours:.2f} | {base:.2f} |")
    true_fx = [r["true"][0] - r["true"][1] for r in rows]
    for name, col in (("what_if", "what-if"), ("arith", "arithmetic")):
        fx = [r[name][0] - r[name][1] for r in rows]
        err = statistics.fmean(abs(a - b) for a, b in zip(fx, true_fx, strict=True))
        print(f"| {col}: effect on the peak, mean absolute error | {err:.2f} p/m² | (mean true effect "
              f"{statistics.fmean(true_fx):.2f}) |")  # fmt: skip
    helps = sum(
        1 for r in rows if (r["what_if"][0] - r["what_if"][1] > 0.05) == (r["true"][0] - r["true"][1] > 0.05)
    )
    print(
        f"\nthe what-if says rightly whether closing the main entrance lowers the peak in {helps} of {len(rows)}"
    )
    print(f"what-if compute: median {statistics.median(r['took'] for r in rows):.0f} s, scale "
          f"{min(r['scale'] for r in rows):.2f}-{max(r['scale'] for r in rows):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
