"""The lake's files as a user of DuckDB or of another engine sees them: the newest row of each record, the same
before and after compaction, raw readings compacted only once their date is closed, uploads replaced whole,
empty tables readable, and DuckDB confined to the lake."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from urbanbrain.domains.datahub.lake.store import DistrictLake
from urbanbrain.domains.datahub.lake.tables import CASES, READINGS, TABLES
from urbanbrain.domains.sensing.lake import READINGS_SCHEMA, Lake

T0 = datetime(2018, 7, 9, 0, 0)  # UTC: 08:00 in Shenzhen


def _cases(rows: list[tuple[int, int, str, datetime, datetime]]) -> pa.Table:
    """Case rows (case_id, version, state, reported_at, landed_at), the other columns empty."""
    data: dict[str, list[Any]] = {c.name: [None] * len(rows) for c in CASES.columns}
    for i, (case_id, version, state, reported, landed) in enumerate(rows):
        data["case_id"][i], data["version"][i], data["state"][i] = case_id, version, state
        data["reported_at"][i], data["landed_at"][i] = reported, landed
    return pa.table(data, schema=CASES.schema)


def _current(lake: DistrictLake) -> list[tuple[Any, ...]]:
    return lake.query(
        f"SELECT case_id, version, state, date FROM {lake.relation_sql('cases')} ORDER BY case_id"
    )


@pytest.fixture
def lake(tmp_path: Path) -> DistrictLake:
    return DistrictLake(tmp_path / "lake", fsync=False)


def test_reads_keep_the_newest_version_and_compaction_keeps_exactly_those(lake):
    # Case 1 reported 23:30 local on 07-08 (15:30 UTC) lands in date=2018-07-08 with every later version.
    late_evening = T0 - timedelta(hours=8, minutes=30)
    lake.write("cases", _cases([(1, 1, "reported", late_evening, T0), (2, 1, "reported", T0, T0)]))
    lake.write("cases", _cases([(1, 2, "dispatched", late_evening, T0 + timedelta(minutes=1))]))
    lake.write("cases", _cases([(1, 3, "closed", late_evening, T0 + timedelta(minutes=2)),
                                (2, 2, "dispatched", T0, T0 + timedelta(minutes=2))]))  # fmt: skip
    # The same version landed twice (the SLA sweep changes a case without a new version): the later landing wins.
    lake.write("cases", _cases([(2, 2, "dispatched_flagged", T0, T0 + timedelta(minutes=3))]))
    before = _current(lake)
    assert before == [(1, 3, "closed", date(2018, 7, 8)), (2, 2, "dispatched_flagged", date(2018, 7, 9))]
    assert lake.inspect()["cases"] | {"bytes": 0} == {
        "files": 6, "rows": 6, "records": 2, "bytes": 0, "partitions": 2,
        "oldest_partition": "2018-07-08", "newest_partition": "2018-07-09",
    }  # fmt: skip

    done = lake.compact("cases")
    assert done["cases"] == {"partitions": 2, "files_before": 6, "files_after": 2}
    assert _current(lake) == before
    after = lake.inspect()["cases"]
    assert (after["files"], after["rows"], after["records"]) == (2, 2, 2)
    assert not [p for p in lake.root.rglob(".*") if p.name != ".locks" and ".locks" not in p.parts]
    assert lake.compact("cases")["cases"]["partitions"] == 0  # one file each: nothing to do


def test_reads_go_on_while_a_partition_is_compacted(lake):
    for version in range(1, 41):
        lake.write("cases", _cases([(i, version, f"v{version}", T0, T0) for i in range(50)]))
    expected = _current(lake)
    seen: list[Any] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.append(_current(lake))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        lake.compact("cases")
    finally:
        stop.set()
        reader.join()
    assert seen and all(s == expected for s in seen)


def test_a_half_done_compaction_is_invisible_and_swept(lake):
    lake.write("cases", _cases([(1, 1, "reported", T0, T0)]))
    lake.write("cases", _cases([(1, 2, "closed", T0, T0)]))
    partition = next((lake.root / "cases").glob("date=*"))
    left = partition.parent / f".{partition.name}.compact-deadbeef"  # a crash before the swap
    left.mkdir()
    (left / "part-compacted-x.parquet").write_bytes(b"half a file")
    assert _current(lake) == [(1, 2, "closed", date(2018, 7, 9))]
    assert len(ds.dataset(lake.root / "cases", format="parquet", partitioning="hive").files) == 2
    lake.compact("cases")
    assert not left.exists() and _current(lake) == [(1, 2, "closed", date(2018, 7, 9))]


def test_raw_readings_are_compacted_once_their_date_is_closed(tmp_path):
    root = tmp_path / "lake"
    sensing = Lake(root, fsync=False)
    today = date(2018, 7, 20)
    for day in (1, 2, 18):  # 07-01 and 07-02 are closed on 07-20; 07-18 still takes late readings
        for hour in range(3):
            ts = datetime(2018, 7, day, hour).timestamp() - 8 * 3600 + 1  # local hour on that day
            sensing.append(["D1", "D2"], "temp", [20.0 + hour, 21.0], [ts, ts + 1], ts + 2)
            sensing.flush()
    sensing.close()
    lake = DistrictLake(root, fsync=False)
    count = (
        f"SELECT date, count(*), sum(value) FROM {lake.relation_sql('readings')} GROUP BY date ORDER BY date"
    )
    before = lake.query(count)
    assert lake.compact("readings") == {}  # without today's date nothing is known to be closed
    done = lake.compact("readings", today=today)
    assert done["readings"] == {"partitions": 2, "files_before": 9, "files_after": 5}
    assert lake.query(count) == before
    assert [len(list(p.glob("*.parquet"))) for p in sorted((root / "readings").glob("date=*"))] == [1, 1, 3]
    # The sensing domain's own reads, and a second engine, see the same readings.
    again = Lake(root, fsync=False)
    assert again.query("SELECT count(*) FROM readings")[0][0] == 18
    assert ds.dataset(root / "readings", format="parquet", partitioning="hive").count_rows() == 18


def test_readings_columns_match_the_sensing_lake():
    assert READINGS.names == READINGS_SCHEMA.names
    assert [c.type for c in READINGS.columns] == list(READINGS_SCHEMA.types)


def test_every_table_reads_as_empty_before_its_first_file(lake):
    for name, table in TABLES.items():
        cur = lake.connect()
        try:
            cur.execute(f"SELECT * FROM {lake.relation_sql(name)}")
            columns = [d[0] for d in cur.description]
            assert cur.fetchall() == []
        finally:
            cur.close()
        assert columns == table.names + (["date"] if table.partition_by else [])
    assert lake.inspect()["cases"]["files"] == 0


def test_an_upload_is_replaced_whole(lake):
    assert lake.write_upload("parking-2018", pa.table({"lot": ["A", "B"], "spaces": [10, 20]})) == 2
    relation = lake.relation_sql("uploads/parking-2018")
    assert lake.query(f"SELECT sum(spaces) FROM {relation}") == [(30,)]
    lake.write_upload("parking-2018", pa.table({"lot": ["C"], "spaces": [5], "covered": [True]}))
    assert lake.query(f"SELECT * FROM {lake.relation_sql('uploads/parking-2018')}") == [("C", 5, True)]
    assert "uploads/parking-2018" in lake.inspect()
    with pytest.raises(ValueError):
        lake.write_upload("../escape", pa.table({"a": [1]}))


def test_duckdb_reads_nothing_outside_the_lake(lake, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    lake.write("cases", _cases([(1, 1, "reported", T0, T0)]))
    with pytest.raises(duckdb.PermissionException):
        lake.query(f"SELECT * FROM read_csv('{outside}')")


def test_rows_lacking_a_column_are_refused(lake):
    rows = _cases([(1, 1, "reported", T0, T0)]).drop_columns(["landed_at"])
    with pytest.raises(ValueError, match="landed_at"):
        lake.write("cases", rows)
    assert np.array_equal(lake.query(f"SELECT count(*) FROM {lake.relation_sql('cases')}"), [(0,)])
