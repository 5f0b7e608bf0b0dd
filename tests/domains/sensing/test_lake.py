"""The telemetry lake: readings written as date-partitioned Parquet, read back through DuckDB, rolled up per
minute and aged out by retention."""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from urbanbrain.domains.sensing.lake import Lake

# 2024-05-01 15:59:59 UTC is 23:59:59 in Shenzhen; one second later it is 2024-05-02 there.
BEFORE_MIDNIGHT = datetime(2024, 5, 1, 15, 59, 59, tzinfo=UTC).timestamp()
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC).timestamp()
DAY = 86_400.0


def make_lake(tmp_path: Path, **options) -> Lake:
    return Lake(tmp_path / "lake", fsync=False, **options)


def readings(n: int, *, start: float = T0, span_s: float = 300.0, seed: int = 0) -> dict:
    """``n`` readings from 4 devices and 2 measurements, at distinct times spread over ``span_s``."""
    rng = np.random.default_rng(seed)
    ts = start + np.sort(rng.choice(int(span_s * 1000), n, replace=False)) / 1000
    return {
        "device_id": [f"sz-{i}" for i in rng.integers(0, 4, n)],
        "measurement": [["pm25", "noise_db"][i] for i in rng.integers(0, 2, n)],
        "value": np.round(rng.normal(40, 12, n), 3),
        "ts": ts,
        "received_at": ts + 0.2,
        "message_id": [f"msg-{seed}-{i}" for i in range(n)],
    }


def test_appended_rows_come_back_from_duckdb_unchanged(tmp_path):
    lake = make_lake(tmp_path)
    first, second = readings(700, seed=1), readings(500, seed=2)
    lake.append(**first)
    lake.append(**second)
    assert lake.pending_rows == 1200 and lake.buffer_bytes > 1200 * 8 * 3

    assert lake.flush() == 1200
    assert lake.pending_rows == 0 and lake.buffer_bytes == 0
    values = np.concatenate([first["value"], second["value"]])
    devices = first["device_id"] + second["device_id"]
    count, total = lake.query("SELECT count(*), sum(value) FROM readings")[0]
    assert count == 1200 and total == pytest.approx(values.sum())
    per_device = dict.fromkeys(sorted(set(devices)), 0.0)
    for device, value in zip(devices, values, strict=True):
        per_device[device] += value
    got = lake.query("SELECT device_id, sum(value) FROM readings GROUP BY device_id ORDER BY device_id")
    assert [d for d, _ in got] == list(per_device)
    assert [s for _, s in got] == pytest.approx(list(per_device.values()))
    row = lake.query(
        "SELECT device_id, measurement, value, epoch_us(ts), epoch_us(received_at) FROM readings "
        "WHERE message_id = ?",
        ["msg-2-17"],
    )
    assert row == [
        (
            second["device_id"][17],
            second["measurement"][17],
            second["value"][17],
            round(second["ts"][17] * 1e6),
            round(second["received_at"][17] * 1e6),
        )
    ]


def test_nothing_is_visible_before_the_flush_and_an_empty_lake_answers_queries(tmp_path):
    lake = make_lake(tmp_path)
    assert lake.query("SELECT count(*) FROM readings") == [(0,)]
    assert lake.query("SELECT count(*) FROM rollup_1m") == [(0,)]
    lake.append(**readings(10))
    assert lake.query("SELECT count(*) FROM readings") == [(0,)]
    lake.close()
    assert make_lake(tmp_path).query("SELECT count(*) FROM readings") == [(0 + 10,)]


def test_readings_are_partitioned_by_their_local_date_around_midnight(tmp_path):
    lake = make_lake(tmp_path)
    lake.append(
        ["a", "b"], "noise_db", [1.0, 2.0], [BEFORE_MIDNIGHT, BEFORE_MIDNIGHT + 1], BEFORE_MIDNIGHT + 5
    )
    assert lake.flush() == 2

    dirs = sorted(p.name for p in (tmp_path / "lake" / "readings").iterdir())
    assert dirs == ["date=2024-05-01", "date=2024-05-02"]
    got = lake.query("SELECT device_id, CAST(date AS VARCHAR), CAST(ts AS VARCHAR) FROM readings ORDER BY ts")
    assert got == [("a", "2024-05-01", "2024-05-01 15:59:59"), ("b", "2024-05-02", "2024-05-01 16:00:00")]


def test_the_offset_is_a_setting_and_a_reading_far_off_keeps_its_own_date(tmp_path):
    lake = make_lake(tmp_path, utc_offset_hours=0)
    far_past = datetime(1999, 12, 31, 23, 0, tzinfo=UTC).timestamp()
    far_future = datetime(2091, 3, 4, 5, 6, tzinfo=UTC).timestamp()
    ts = [BEFORE_MIDNIGHT, BEFORE_MIDNIGHT + 1, far_past, far_future]
    lake.append(["a"] * 4, "pm25", [1.0, 2.0, 3.0, 4.0], ts, BEFORE_MIDNIGHT)
    lake.flush()

    got = lake.query("SELECT CAST(date AS VARCHAR), sum(value) FROM readings GROUP BY date ORDER BY date")
    assert got == [("1999-12-31", 3.0), ("2024-05-01", 3.0), ("2091-03-04", 4.0)]


def test_files_are_named_by_first_reading_and_strings_are_dictionary_encoded(tmp_path):
    lake = make_lake(tmp_path)
    data = readings(300)
    lake.append(**data)
    lake.flush()

    (path,) = (tmp_path / "lake" / "readings" / "date=2024-05-01").iterdir()
    assert re.fullmatch(rf"part-{int(data['ts'].min() * 1000)}-[0-9a-f]{{8}}\.parquet", path.name)
    row_group = pq.ParquetFile(path).metadata.row_group(0)
    columns = {row_group.column(i).path_in_schema: row_group.column(i) for i in range(row_group.num_columns)}
    assert columns["device_id"].has_dictionary_page and columns["measurement"].has_dictionary_page
    assert columns["device_id"].compression == "ZSTD"


def test_maybe_flush_writes_once_enough_rows_wait(tmp_path):
    lake = make_lake(tmp_path, flush_rows=1000, flush_seconds=60)
    data = readings(1000)
    lake.append(**{k: v[:999] for k, v in data.items()})
    assert lake.maybe_flush(now_s=T0) == 0
    lake.append(**{k: v[999:] for k, v in data.items()})
    assert lake.maybe_flush(now_s=T0) == 1000
    assert lake.query("SELECT count(*) FROM readings") == [(1000,)]


def test_maybe_flush_writes_once_the_oldest_row_waited_long_enough_on_the_callers_clock(tmp_path):
    lake = make_lake(tmp_path, flush_rows=1_000_000, flush_seconds=2.0)
    arrived = 5_000.0  # a simulated clock, far from the wall clock
    lake.append(["a"], "pm25", [1.0], [T0], arrived)
    lake.append(["b"], "pm25", [2.0], [T0], arrived + 1.5)
    assert lake.maybe_flush(now_s=arrived + 1.99) == 0
    assert lake.maybe_flush(now_s=arrived + 2.0) == 2
    assert lake.maybe_flush(now_s=arrived + 100) == 0


def test_a_leftover_temporary_file_is_never_read_and_is_swept_by_the_next_flush(tmp_path):
    lake = make_lake(tmp_path)
    partition = tmp_path / "lake" / "readings" / "date=2024-05-01"
    partition.mkdir(parents=True)
    half_written = partition / ".part-1714550400000-deadbeef.parquet.tmp"
    half_written.write_bytes(b"PAR1 and then the writer crashed")
    assert lake.query("SELECT count(*) FROM readings") == [(0,)]

    lake.append(**readings(50))
    lake.flush()
    assert lake.query("SELECT count(*) FROM readings") == [(50,)]
    assert not list((tmp_path / "lake").rglob("*.tmp"))


def test_rows_whose_file_could_not_be_written_stay_buffered(tmp_path):
    lake = make_lake(tmp_path)
    blocker = tmp_path / "lake" / "readings" / "date=2024-05-01"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the partition folder should be")
    lake.append(**readings(40))
    with pytest.raises(OSError):
        lake.flush()
    assert lake.pending_rows == 40

    blocker.unlink()
    assert lake.flush() == 40
    assert lake.query("SELECT count(DISTINCT message_id) FROM readings") == [(40,)]


def test_bad_batches_are_refused(tmp_path):
    lake = make_lake(tmp_path)
    with pytest.raises(ValueError):
        lake.append(["a", "b"], "pm25", [1.0, 2.0], [T0], T0)
    with pytest.raises(ValueError):
        lake.append(["a"], "pm25", [1.0], [float("nan")], T0)
    with pytest.raises(ValueError):
        lake.append(["a", "b", "c"], "pm25", [1.0, 2.0], [T0, T0], T0)
    with pytest.raises(ValueError):
        lake.append(["a", None], "pm25", [1.0, 2.0], [T0, T0], T0)
    assert lake.pending_rows == 0


def test_queries_cannot_read_files_outside_the_lake(tmp_path):
    outside = tmp_path / "secrets.csv"
    outside.write_text("password\nhunter2\n")
    lake = make_lake(tmp_path)
    with pytest.raises(duckdb.PermissionException):
        lake.query("SELECT * FROM read_csv(?)", [str(outside)])


def expected_rollup(data: dict, until: float) -> dict:
    """Per (device, measurement, minute) for minutes ending at or before ``until``, computed in Python."""
    groups: dict = defaultdict(list)
    for device, measurement, value, ts in zip(
        data["device_id"], data["measurement"], data["value"], data["ts"], strict=True
    ):
        minute = int(ts // 60 * 60)
        if minute + 60 <= until:
            groups[(device, measurement, minute)].append((ts, value))
    out = {}
    for key, rows in groups.items():
        values = np.array([v for _, v in rows])
        last_ts, last_value = max(rows)
        out[key] = (len(rows), values.min(), values.max(), values.sum(), values.mean(), last_value, last_ts)
    return out


def rollup_rows(lake: Lake) -> dict:
    got = lake.query(
        "SELECT device_id, measurement, epoch(minute)::BIGINT, count, min, max, sum, avg, last_value, "
        "epoch_us(last_ts) / 1e6 FROM rollup_1m"
    )
    assert len(got) == len({r[:3] for r in got}), "a minute is rolled up twice"
    return {r[:3]: r[3:] for r in got}


def assert_rollups_equal(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, (count, lo, hi, total, mean, last_value, last_ts) in expected.items():
        assert got[key][0] == count
        assert got[key][1:5] == pytest.approx((lo, hi, total, mean))
        assert got[key][5:] == pytest.approx((last_value, last_ts), abs=1e-6)


def test_rollups_match_a_direct_computation_for_complete_minutes_only(tmp_path):
    lake = make_lake(tmp_path)
    data = readings(3000, span_s=330)  # 08:00:00 to 08:05:30
    lake.append(**data)
    until = T0 + 4 * 60 + 30  # 08:04:30: minutes 08:00 to 08:03 are complete

    written = lake.rollup(until)
    expected = expected_rollup(data, until)
    assert written == len(expected) == 4 * 4 * 2
    assert_rollups_equal(rollup_rows(lake), expected)
    minutes = lake.query("SELECT DISTINCT CAST(minute AS VARCHAR) FROM rollup_1m ORDER BY 1")
    assert [m for (m,) in minutes] == [f"2024-05-01 08:0{i}:00" for i in range(4)]


def test_rollup_is_idempotent_and_continues_where_it_stopped(tmp_path):
    lake = make_lake(tmp_path)
    data = readings(2000, span_s=330)
    lake.append(**data)
    lake.rollup(T0 + 120)
    assert lake.rollup(T0 + 120) == 0
    assert lake.rollup(T0 + 150) == 0  # the minute 08:02 is not over yet

    assert lake.rollup(T0 + 360) > 0  # data ends at 08:05:30, so every minute is complete
    assert_rollups_equal(rollup_rows(lake), expected_rollup(data, T0 + 360))
    assert lake.query("SELECT sum(count) FROM rollup_1m") == [(2000,)]


def test_a_crash_between_writing_rollups_and_recording_them_leaves_no_duplicates(tmp_path):
    lake = make_lake(tmp_path)
    data = readings(2000, span_s=330)
    lake.append(**data)
    lake.rollup(T0 + 120)
    state_file = tmp_path / "lake" / "rollup_1m" / "_state.json"
    recorded = state_file.read_text()
    lake.rollup(T0 + 300)
    state_file.write_text(recorded)  # the process died before the new watermark and files were recorded

    assert_rollups_equal(rollup_rows(lake), expected_rollup(data, T0 + 120))
    restarted = make_lake(tmp_path)
    restarted.rollup(T0 + 360)
    assert_rollups_equal(rollup_rows(restarted), expected_rollup(data, T0 + 360))
    on_disk = sorted(p.relative_to(state_file.parent).as_posix() for p in state_file.parent.glob("date=*/*"))
    assert on_disk == sorted(json.loads(state_file.read_text())["files"])


def test_buffered_readings_count_and_late_ones_stay_out_of_finished_minutes(tmp_path):
    lake = make_lake(tmp_path)
    lake.append(["a", "a"], "pm25", [1.0, 3.0], [T0 + 1, T0 + 2], T0 + 2)
    assert lake.rollup(T0 + 60) == 1
    lake.append(["a"], "pm25", [100.0], [T0 + 3], T0 + 70)  # arrives after its minute was rolled up
    lake.rollup(T0 + 120)

    assert lake.query("SELECT count, sum FROM rollup_1m") == [(2, 4.0)]
    assert lake.query("SELECT count(*) FROM readings") == [(3,)]


def test_a_finished_day_of_rollups_is_merged_into_one_file(tmp_path):
    lake = make_lake(tmp_path)
    start = BEFORE_MIDNIGHT - 179  # 23:57:00 local
    data = readings(1000, start=start, span_s=360)
    lake.append(**data)
    for minute in range(1, 7):
        lake.rollup(start + minute * 60)

    rollup_dir = tmp_path / "lake" / "rollup_1m"
    assert len(list((rollup_dir / "date=2024-05-01").glob("*.parquet"))) == 1
    assert len(list((rollup_dir / "date=2024-05-02").glob("*.parquet"))) == 3
    assert_rollups_equal(rollup_rows(lake), expected_rollup(data, start + 360))


def test_retention_removes_old_date_partitions_and_keeps_recent_ones(tmp_path):
    lake = make_lake(tmp_path)
    days = 10
    ts = T0 - DAY * np.arange(days)  # 16:00 local on 2024-05-01 and the nine days before
    lake.append(["a"] * days, "pm25", np.arange(float(days)), ts, T0)
    lake.rollup(T0 + 60)

    removed = lake.apply_retention(now_s=T0, raw_days=3, rollup_days=5)
    assert removed["readings"] == [f"2024-04-{d:02d}" for d in range(22, 28)]
    assert removed["rollup_1m"] == [f"2024-04-{d:02d}" for d in range(22, 26)]
    raw = lake.query("SELECT CAST(min(date) AS VARCHAR), count(*) FROM readings")
    assert raw == [("2024-04-28", 4)]
    assert lake.query("SELECT CAST(min(date) AS VARCHAR), count(*) FROM rollup_1m") == [("2024-04-26", 6)]
    assert lake.apply_retention(now_s=T0, raw_days=3, rollup_days=5) == {"readings": [], "rollup_1m": []}


def test_queries_from_other_threads_while_the_writer_appends_and_flushes(tmp_path):
    lake = make_lake(tmp_path)
    batch, batches = 500, 40
    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                seen.append(lake.query("SELECT count(*) FROM readings")[0][0])
                lake.query_arrow("SELECT device_id, avg(value) FROM readings GROUP BY device_id")
                lake.query("SELECT count(*) FROM rollup_1m")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(batches):
        lake.append(**readings(batch, start=T0 + i * 60, span_s=60, seed=i))
        lake.flush()
        if i % 10 == 9:
            lake.rollup(T0 + i * 60)
    done.set()
    for t in threads:
        t.join()

    assert not errors
    assert seen and all(n % batch == 0 for n in seen), "a reader saw part of a file"
    assert lake.query("SELECT count(*) FROM readings") == [(batch * batches,)]
