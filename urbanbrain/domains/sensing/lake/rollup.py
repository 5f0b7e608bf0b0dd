"""Per-minute rollups of the telemetry lake: for each device, measurement and UTC minute, the count, min, max,
sum, avg and the last value with its timestamp.

**Complete minutes.** ``run(until_ts)`` rolls up the minutes that ended at or before ``until_ts`` and were not
rolled up before. The caller chooses ``until_ts`` as "now minus the lateness it tolerates": a reading that
arrives after its minute was rolled up stays in ``readings`` but is not added to ``rollup_1m``. The first run
starts at the minute of the oldest reading. Buffered readings are flushed first, so they count.

**Restart safety.** ``rollup_1m/_state.json`` records the watermark (every minute before it is rolled up) and
the list of committed files; the ``rollup_1m`` view reads only the listed files. A run writes its files
(``rollup-<from>-<to>.parquet``, epoch seconds), then replaces the state file atomically. A crash before that
replacement leaves files no state lists: invisible to queries and removed at the next run, which computes the
same minutes again. So a minute is never visible twice and never skipped.

**Compaction.** Once the watermark passes the end of a local day, that day's small files are merged into one
(write the merged file, switch the state to it, then delete the small ones; the same rule covers a crash).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from urbanbrain.domains.sensing.lake.files import day_name, fsync_dir, remove_tree, write_atomic

ROLLUP_SCHEMA = pa.schema(
    [
        pa.field("device_id", pa.string()),
        pa.field("measurement", pa.string()),
        pa.field("minute", pa.timestamp("us")),
        pa.field("count", pa.int64()),
        pa.field("min", pa.float64()),
        pa.field("max", pa.float64()),
        pa.field("sum", pa.float64()),
        pa.field("avg", pa.float64()),
        pa.field("last_value", pa.float64()),
        pa.field("last_ts", pa.timestamp("us")),
    ]
)
_FILE_NAME = re.compile(r"^rollup-(-?\d+)-(-?\d+)\.parquet$")
# Ties on ts go to the later received_at, then the larger message_id, so reruns give the same last value.
_AGGREGATE = """
SELECT device_id, measurement, date_trunc('minute', ts) AS minute, count(*) AS count,
       min(value) AS min, max(value) AS max, sum(value) AS sum, avg(value) AS avg,
       arg_max(value, (ts, received_at, message_id)) AS last_value, max(ts) AS last_ts
FROM readings
WHERE ts >= make_timestamp({start_us}) AND ts < make_timestamp({end_us})
  AND date BETWEEN DATE '{first_date}' AND DATE '{last_date}'
GROUP BY device_id, measurement, minute
ORDER BY minute, device_id, measurement
"""


class LakeFiles(Protocol):
    """What the rollups need of the readings lake (:class:`~urbanbrain.domains.sensing.lake.Lake`)."""

    root: Path
    fsync: bool
    write_lock: Any

    def flush(self, now_s: float | None = None) -> int: ...
    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]: ...
    def query_arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table: ...
    def split_by_local_date(self, table: pa.Table, column: str) -> list[tuple[str, pa.Table]]: ...
    def local_day_of(self, epoch_s: float) -> int: ...


@dataclass
class RollupState:
    """What ``_state.json`` holds: minutes before ``watermark`` (epoch s) are done; ``files`` are visible."""

    watermark: int | None = None
    files: list[str] = field(default_factory=list)


class Rollups:
    """The ``rollup_1m`` half of a :class:`Lake`; runs under the lake's write lock."""

    def __init__(self, lake: LakeFiles) -> None:
        self.lake = lake
        self.dir = lake.root / "rollup_1m"
        self.state_path = self.dir / "_state.json"

    def load_state(self) -> RollupState:
        """The last committed state; empty before the first run."""
        try:
            data = json.loads(self.state_path.read_text())
        except FileNotFoundError:
            return RollupState()
        return RollupState(watermark=data["watermark"], files=list(data["files"]))

    def committed_files(self) -> list[Path]:
        """The files the ``rollup_1m`` view reads."""
        return [self.dir / rel for rel in self.load_state().files]

    def run(self, until_ts: float) -> int:
        """Roll up the complete minutes before ``until_ts`` not yet done. Returns the rollup rows written."""
        end = math.floor(until_ts / 60) * 60
        lake = self.lake
        with lake.write_lock:
            lake.flush()
            state = self.load_state()
            self._remove_uncommitted(state)
            start = state.watermark
            if start is None:
                first = lake.query(
                    f"SELECT epoch_us(min(ts)) FROM readings WHERE ts < make_timestamp({end * 1_000_000})"
                )
                if first[0][0] is None:
                    return 0
                start = first[0][0] // 60_000_000 * 60
            if end <= start:
                return 0
            sql = _AGGREGATE.format(
                start_us=start * 1_000_000,
                end_us=end * 1_000_000,
                first_date=_day(lake, start),
                last_date=_day(lake, end - 1),
            )
            table = lake.query_arrow(sql).cast(ROLLUP_SCHEMA)
            written = []
            for date, part in lake.split_by_local_date(table, "minute"):
                rel = f"date={date}/rollup-{start}-{end}.parquet"
                self._write(rel, part)
                written.append(rel)
            state = RollupState(watermark=end, files=state.files + written)
            self._save(state)
            self._compact(state)
            return table.num_rows

    def drop_dates_before(self, date: str) -> list[str]:
        """Remove rollup partitions dated before ``date`` (``YYYY-MM-DD``); the dates removed."""
        with self.lake.write_lock:
            state = self.load_state()
            keep = [rel for rel in state.files if _date_of(rel) >= date]
            if len(keep) != len(state.files):
                self._save(RollupState(state.watermark, keep))
            removed = []
            for path in sorted(self.dir.glob("date=*")):
                if path.name.removeprefix("date=") < date:
                    remove_tree(path)
                    removed.append(path.name.removeprefix("date="))
            return removed

    def _compact(self, state: RollupState) -> None:
        assert state.watermark is not None
        finished = _day(self.lake, state.watermark)  # days before the watermark's local day are complete
        by_date: dict[str, list[str]] = {}
        for rel in state.files:
            by_date.setdefault(_date_of(rel), []).append(rel)
        for date, small in sorted(by_date.items()):
            if date >= finished or len(small) < 2:
                continue
            spans = [_span(rel) for rel in small]
            merged = f"date={date}/rollup-{min(s for s, _ in spans)}-{max(e for _, e in spans)}.parquet"
            table = pa.concat_tables(pq.ParquetFile(self.dir / rel).read() for rel in small)
            self._write(merged, table.sort_by([("minute", "ascending")]))
            state = RollupState(state.watermark, [r for r in state.files if r not in small] + [merged])
            self._save(state)
            for rel in small:
                (self.dir / rel).unlink(missing_ok=True)

    def _remove_uncommitted(self, state: RollupState) -> None:
        committed = set(state.files)
        for path in self.dir.glob("date=*/*"):
            if path.relative_to(self.dir).as_posix() not in committed:
                path.unlink(missing_ok=True)

    def _write(self, rel: str, table: pa.Table) -> None:
        write_atomic(self.dir / rel, table.cast(ROLLUP_SCHEMA), fsync=self.lake.fsync)

    def _save(self, state: RollupState) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(".state.json.tmp")
        with open(tmp, "w") as f:
            json.dump({"watermark": state.watermark, "files": state.files}, f)
            if self.lake.fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, self.state_path)
        if self.lake.fsync:
            fsync_dir(self.dir)


def _day(lake: LakeFiles, epoch_s: int) -> str:
    return day_name(lake.local_day_of(epoch_s))


def _date_of(rel: str) -> str:
    return rel.split("/", 1)[0].removeprefix("date=")


def _span(rel: str) -> tuple[int, int]:
    match = _FILE_NAME.match(rel.rsplit("/", 1)[1])
    assert match, rel
    return int(match[1]), int(match[2])
