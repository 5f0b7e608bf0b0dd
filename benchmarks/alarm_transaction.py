"""The alarm's own transaction (issue 4's latency path), measured without load, beside the store's own speed.

An alarm's transaction is the largest single step between a device's reading and the command centre's
stream: the alarm row, its audit row in the hash chain, its event, the station's and the command centre's
inbox rows and the owner's SMS, committed together (``alarms.apply``). This program times it for new alarms
on fresh devices, one per transaction, and in the same run the baseline: a transaction that inserts one
alarm-sized row with the driver and commits, on the same database. It prints p50, p99 and the ratio.

SQLite by default; ``--database postgresql://...`` for PostgreSQL (a fresh database is made and dropped).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

from _server import PG_ADMIN, scratch_database
from alert_latency import pct as ms
from ingest import prepare
from sqlalchemy import text

from urbanbrain.core.config import Settings
from urbanbrain.core.context import Platform
from urbanbrain.domains.sensing import alarms
from urbanbrain.domains.sensing.engine import Transition
from urbanbrain.domains.sensing.ingest.catalog import Catalog


def raise_for(device: str, ts: float) -> Transition:
    return Transition(
        rule_code="fire.residual_current", kind="raise", device=device, group=None,
        measurement="residual_current_ma", event_ts=ts, value=350.0, alarm_type="residual_current",
        severity="major", level="orange",
    )  # fmt: skip


def alarm_times(p: Platform, catalog: Catalog, devices: list[str]) -> list[float]:
    out: list[float] = []
    for device in devices:
        t0 = time.perf_counter()
        with p.db.session() as session:
            raised = alarms.apply(session, p, [raise_for(device, time.time())], catalog.places,
                                  catalog.categories)  # fmt: skip
        out.append(time.perf_counter() - t0)
        assert sum(raised.values()) == 1
    return out


def bare_times(p: Platform, n: int) -> list[float]:
    """One row of about an alarm's size per transaction, through the driver: the store's own cost."""
    with p.db.session() as session:
        session.execute(text("CREATE TABLE bench_bare (id INTEGER PRIMARY KEY, origin TEXT, body TEXT)"))
    out: list[float] = []
    body = "x" * 600
    for i in range(n):
        t0 = time.perf_counter()
        with p.db.session() as session:
            session.connection().exec_driver_sql(
                "INSERT INTO bench_bare (id, origin, body) VALUES (%s, %s, %s)"
                if p.db.dialect == "postgresql"
                else "INSERT INTO bench_bare (id, origin, body) VALUES (?, ?, ?)",
                (i + 1, f"EFM-{i}", body),
            )
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--alarms", type=int, default=500, help="alarms timed (after 20 not counted)")
    ap.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL server's admin URL")
    a = ap.parse_args(argv)
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ub-alarm-tx-")))
        if a.database == "sqlite":
            url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
        else:
            admin = PG_ADMIN if a.database == "postgresql" else a.database
            url = stack.enter_context(scratch_database("ub_bench_alarm", admin))
        _, ids = prepare(url, data_dir, a.alarms + 20)
        p = Platform.build(Settings(database_url=url, data_dir=data_dir))
        stack.callback(p.close)
        catalog = Catalog()
        with p.db.sessionmaker() as session:
            catalog.reload(session, p, force=True)
        alarm_times(p, catalog, ids[:20])  # statements compiled, caches warm
        took = alarm_times(p, catalog, ids[20:])
        bare = bare_times(p, a.alarms)
    print(f"{p.db.dialect}; {a.alarms} new alarms, one transaction each, no other load")
    print(f"{'measure (ms)':<58}{'p50':>8}{'p99':>8}")
    print(
        f"{'alarm transaction (alarm, audit, event, inbox, SMS)':<58}{ms(took, 50):>8.2f}{ms(took, 99):>8.2f}"
    )
    print(
        f"{'baseline: one row inserted with the driver, committed':<58}{ms(bare, 50):>8.2f}{ms(bare, 99):>8.2f}"
    )
    print(
        f"ratio to the baseline: p50 {ms(took, 50) / ms(bare, 50):.1f}×, p99 {ms(took, 99) / ms(bare, 99):.1f}×"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
