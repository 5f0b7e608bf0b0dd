"""What the writer thread does with a group of journaled readings: the rules, the faults of sensors outside
their measuring range, the alarms (recorded first), the lake and the latest values; and the device and rule
changes it takes between groups. A part of :class:`~urbanbrain.domains.sensing.ingest.pipeline.Pipeline`,
kept apart because it is the work, where the pipeline is the plumbing."""

from __future__ import annotations

import time
from collections import Counter
from itertools import chain
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from urbanbrain.core.context import Platform
from urbanbrain.domains.sensing import alarms
from urbanbrain.domains.sensing.engine import RuleEngine, Transition
from urbanbrain.domains.sensing.ingest import taps, writes
from urbanbrain.domains.sensing.ingest.catalog import Catalog
from urbanbrain.domains.sensing.ingest.wire import Dead, Parsed
from urbanbrain.domains.sensing.lake import Lake

FAULT_MEASUREMENT = "sensor_fault"  # what the rules see of readings outside a sensor's measuring range
SMALL_GROUP = 256  # readings; a smaller group's lake columns are built without Arrow's kernels


class GroupProcessing:
    """The writer thread's work on a group (mixed into the pipeline, which owns these)."""

    platform: Platform
    catalog: Catalog
    engine: RuleEngine
    lake: Lake
    stats: dict[str, int]
    _pending_latest: dict[tuple[str, str], tuple[float, float, str]]
    _pending_dead: list[tuple[str, float, Dead]]
    _last_reload: float

    def _process(
        self,
        parts: list[Parsed],
        received: float,
        source: str,
        dead: list[Dead],
        received_each: list[tuple[int, float]] | None = None,
    ) -> None:
        self.stats["groups"] += 1
        self.stats["bodies"] += len(parts)
        self.stats["duplicates"] += sum(p.duplicates for p in parts)
        self._sync_devices()
        for d in dead:
            self._pending_dead.append((source, received, d))
        parts = [p for p in parts if p.readings]
        transitions: list[Transition] = []
        if parts:
            dev = np.concatenate([p.device_index for p in parts])
            values = np.concatenate([p.value for p in parts])
            ts = np.concatenate([p.ts for p in parts])
            names = list(chain.from_iterable(p.measurement for p in parts))  # per reading: a loop in C
            message_ids = list(chain.from_iterable(p.message_id for p in parts))
            codes = self.catalog.codes(names, self.engine)
            rows: Any = None  # the engine's input row → the reading's row (-1: a fault flag)
            checked = self.catalog.out_of_range(dev, codes, values, self.engine)
            if checked is None:
                result = self.engine.evaluate(dev, codes, values, ts)
            else:
                rows, inputs = self._faults(dev, codes, values, ts, *checked)
                result = self.engine.evaluate(*inputs)
            transitions = result.transitions
            recv: Any = received
            if received_each is not None and len(received_each) > 1:
                recv = np.repeat([r for _, r in received_each], [n for n, _ in received_each])
            if result.rejected:
                device_ids = [self.catalog.ids[d] for d in dev.tolist()]
                keep = np.ones(len(values), dtype=bool)
                for at_engine, reason in result.rejected:
                    pos = int(rows[at_engine]) if rows is not None else at_engine
                    if pos < 0:
                        continue
                    keep[pos] = False
                    payload = msgspec.json.encode({"id": message_ids[pos], "device": device_ids[pos],
                                                   "ts": float(ts[pos]), "values": {names[pos]: float(values[pos])}})  # fmt: skip
                    self._pending_dead.append(
                        (
                            source,
                            received,
                            Dead(
                                reason,
                                "refused by the rules engine",
                                payload,
                                device_ids[pos],
                                message_ids[pos],
                            ),
                        )  # fmt: skip
                    )
                idx = np.flatnonzero(keep)
                message_ids = [message_ids[i] for i in idx]
                dev, codes, values, ts = dev[idx], codes[idx], values[idx], ts[idx]
                if not np.isscalar(recv):
                    recv = recv[idx]
            # Alarms first: the command centre should not wait for the lake and the latest values (a crash
            # before those replays the group from the journal; alarms are recorded idempotently).
            self._record(transitions)
            transitions = []
            if len(values):
                # String columns from indexes and codes: no per-reading Python work on the writer thread.
                by_code = self.catalog.names_by_code()
                if len(values) <= SMALL_GROUP:  # Arrow's fixed cost per call is more than a few readings'
                    ids = self.catalog.ids
                    device_col: Any = [ids[d] for d in dev.tolist()]
                    measurement: Any = [by_code[c] for c in codes.tolist()]
                else:
                    device_col = self.catalog.id_column(dev)
                    measurement = pa.array(by_code, type=pa.string()).take(pa.array(codes))
                self.lake.append(device_col, measurement, values, ts, recv, message_ids)
                writes.latest_merge_columns(self._pending_latest, self.catalog.ids, by_code, dev, codes, values,
                                           ts, message_ids)  # fmt: skip
                taps.deliver(
                    self.platform, self.catalog.ids, self.catalog.types, by_code, dev, codes, values, ts
                )
            self.stats["readings"] += len(values)
        self.stats["dead"] += len(dead)
        self._record(transitions)

    def _faults(
        self,
        dev: npt.NDArray[np.int64],
        codes: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        ts: npt.NDArray[np.float64],
        outside: npt.NDArray[np.bool_],
        ranged: npt.NDArray[np.bool_],
    ) -> tuple[npt.NDArray[np.int64], tuple[Any, ...]]:
        """What the rules see when device types declare measuring ranges (量程): a reading outside its range
        is a broken sensor, not the world, so no rule sees it (a cable reading 850 °C must not look like a
        fire, nor its next reading like a cooling); instead each message of such a device gives one
        ``sensor_fault`` reading, 1 when any of its values was outside, else 0, for the fault rule to raise
        and clear on. The lake and the latest values keep what the device sent."""
        # a message's readings sit together and share device and time
        starts = np.flatnonzero(np.r_[True, (dev[1:] != dev[:-1]) | (ts[1:] != ts[:-1])])
        fault = np.maximum.reduceat(outside.astype(np.int8), starts).astype(np.float64)
        flagged = starts[ranged[starts]]
        fault = fault[ranged[starts]]
        good = np.flatnonzero(~outside)
        code = self.catalog.codes([FAULT_MEASUREMENT], self.engine)[0]
        rows = np.concatenate([good, np.full(len(flagged), -1, dtype=np.int64)])
        return rows, (
            np.concatenate([dev[good], dev[flagged]]),
            np.concatenate([codes[good], np.full(len(flagged), code, dtype=np.int64)]),
            np.concatenate([values[good], fault]),
            np.concatenate([ts[good], ts[flagged]]),
        )

    def _advance(self) -> None:
        self._record(self.engine.advance(self.platform.clock.now().timestamp()))

    def _record(self, transitions: list[Transition]) -> None:
        """Alarms and dead letters to the database in one transaction; their events leave after the commit."""
        if not transitions and not self._pending_dead:
            return
        dead, self._pending_dead = self._pending_dead, []
        with self.platform.db.session() as session:
            writes.add_dead_letters(session, self.platform, dead)
            raised = alarms.apply(session, self.platform, transitions, self.catalog.places,
                                  self.catalog.categories, self.catalog.descriptions)  # fmt: skip
        # Counted once committed: a group whose transaction fails is replayed from the journal, counted then.
        alarms.count_raised(self.platform, raised)
        _count_dead(self.platform, dead)
        self.stats["alarms"] += raised.total()

    def _sync_devices(self) -> None:
        # Runs for every group: compare counts before copying the device lists (5% of the writer's time).
        if len(self.catalog.ids) == self.engine.device_count and not self.catalog.changed_since_sync:
            return
        self.engine.set_devices(*self.catalog.engine_devices())
        self.catalog.changed_since_sync = False

    def _reload(self, *, force: bool) -> None:
        self._last_reload = time.monotonic()
        with self.platform.db.sessionmaker() as session:
            devices_changed, rules = self.catalog.reload(session, self.platform, force=force)
        if devices_changed:
            self._sync_devices()
        if rules is not None:
            dropped = self.engine.replace_rules(rules)
            if dropped:
                with self.platform.db.session() as session:
                    alarms.close_dropped(session, self.platform, dropped)


def _count_dead(platform: Platform, dead: list[tuple[str, float, Dead]]) -> None:
    """Add a group's dead letters to ``urbanbrain_dead_letters_total{reason}``."""
    if not dead:
        return
    counter = platform.metrics.counter(
        "urbanbrain_dead_letters_total", "Messages dead-lettered, by reason", ["reason"]
    )
    for reason, n in Counter(d.reason for _, _, d in dead).items():
        counter.labels(reason).inc(n)
