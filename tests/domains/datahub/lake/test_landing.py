"""Records land in the district lake from the bus, on both backends: a case's later states replace its row,
alarms land, residents land masked and never in the clear, a rebuild equals what landed bit by bit, and a
second engine (pyarrow datasets) reads the same files."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy import func, select

from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.protect import mask_id_number, mask_phone
from urbanbrain.domains.datahub.lake import landing
from urbanbrain.domains.registry.models import Resident
from urbanbrain.domains.sensing.actions import do_acknowledge_alarm, do_record_alarm_changes
from urbanbrain.domains.sensing.schemas import AlarmChange

ID_NUMBER = "440304199001011234"
PHONE = "13912345678"
CONTACT = "13700001111"


def _close(district: Any, case: dict[str, Any]) -> dict[str, Any]:
    for who, step, body in [("urban", "accept", {}), ("urban", "start", {}), ("urban", "resolve", {"note": "已清运"}),
                            ("verifier", "verify_pass", {"note": "已核查"}), ("operator", "close", {})]:  # fmt: skip
        district.platform.clock.advance(timedelta(minutes=30))
        case = district.act(who, case, step, **body)
    return case


def test_a_case_lands_and_its_later_states_replace_its_row(district):
    case = district.report(reporter_name="张三", reporter_contact=CONTACT)
    assert case["state"] == "dispatched"
    district.land()
    [row] = district.rows("cases", "case_id = ?", [case["id"]])
    assert (row["state"], row["version"], row["number"]) == ("dispatched", case["version"], case["number"])
    assert row["reporter_contact"] == mask_phone(CONTACT) and row["reporter_name"] == "张三"
    reported_local = district.lake.local_date(district.platform.clock.now())
    assert row["date"] == reported_local

    closed = _close(district, case)
    district.land()
    [row] = district.rows("cases", "case_id = ?", [case["id"]])
    assert (row["state"], row["version"]) == ("closed", closed["version"])
    assert row["closed_at"] is not None and row["verified_at"] is not None and row["date"] == reported_local
    # Every state it passed through is still in the files; the reads see only the newest.
    files = list((district.lake.root / "cases").glob(f"date={reported_local}/*.parquet"))
    versions = pq.ParquetDataset(files, filters=[("case_id", "=", case["id"])]).read().column("version")
    assert len(versions) > 1 and max(versions.to_pylist()) == closed["version"]


def test_alarms_land_and_an_acknowledgement_replaces_the_row(district):
    platform = district.platform
    change = AlarmChange(kind="raise", origin="CC-PLAZA", alarm_type="crowd_density", rule_code="crowd.density",
                         level="orange", event_ts=platform.clock.now().timestamp(), measurement="density",
                         value=4.2, community_code="440304004028")  # fmt: skip
    with platform.db.session() as session:
        do_record_alarm_changes(session, platform, [change])
    district.land()
    [row] = district.rows("alarms", "origin = 'CC-PLAZA'")
    assert (row["status"], row["level"], row["value"], row["version"]) == ("active", "orange", 4.2, 1)

    with platform.db.session() as session:
        do_acknowledge_alarm(session, platform, SYSTEM, row["alarm_id"], note="on it")
    district.land()
    [row] = district.rows("alarms", "origin = 'CC-PLAZA'")
    assert row["status"] == "acknowledged" and row["acknowledged_at"] is not None and row["version"] == 2


def test_residents_land_masked_and_never_in_the_clear(district):
    r = district.client.post("/api/v1/registry/residents", headers=district.head("admin"), json={
        "unit_code": _a_unit(district), "name": "李四", "relation": "tenant", "id_number": ID_NUMBER,
        "phone": PHONE})  # fmt: skip
    assert r.status_code == 201, r.text
    resident_id = r.json()["id"]
    district.land()  # the seed's registry.district.seeded lands every registry table, then this resident

    [row] = district.rows("residents", "resident_id = ?", [resident_id])
    assert row["id_number"] == mask_id_number(ID_NUMBER) == "4403**********1234"
    assert row["phone"] == mask_phone(PHONE) and row["name"] == "李四"
    assert row["id_number_index"] == district.platform.protector.index(ID_NUMBER)
    protector = district.platform.protector
    with district.platform.db.session() as session:
        assert len(district.rows("residents")) == session.scalar(select(func.count(Resident.id)))
        sealed = session.execute(select(Resident.id_number, Resident.phone)).all()
    clear = {protector.open(v) for pair in sealed for v in pair if v}
    assert ID_NUMBER in clear and PHONE in clear
    for path in district.lake.root.rglob("*.parquet"):
        digits = {run.decode() for run in re.findall(rb"[0-9X]{5,}", path.read_bytes())}
        assert not any(value in run for run in digits for value in clear if len(value) <= len(run)), path
        for column in pq.read_table(path).columns:  # compressed pages: look at the values too
            if str(column.type) == "string":
                assert not clear & set(column.to_pylist()), (path, column)


def test_a_rebuild_equals_what_landed(district):
    case = district.report()
    district.land()
    _close(district, case)
    district.land()
    tables = [*landing.LANDED_TABLES]
    landed = {t: _current(district, t) for t in tables}
    assert landed["cases"] and landed["buildings"] and landed["residents"]

    district.platform.clock.advance(timedelta(hours=1))
    counts = landing.rebuild(district.platform)
    assert counts["cases"] == len(landed["cases"])
    assert {t: _current(district, t) for t in tables} == landed
    assert len(list((district.lake.root / "buildings").glob("*.parquet"))) == 1


def test_a_second_engine_reads_the_layout(district):
    case = district.report()
    district.land()
    _close(district, case)
    district.land()
    dataset = ds.dataset(district.lake.root / "cases", format="parquet", partitioning="hive")
    table = dataset.to_table()
    assert "date" in table.column_names and table.num_rows > 1
    # The newest version of each case, as Spark's window would keep it.
    newest = table.group_by("case_id").aggregate([("version", "max")])
    mine = newest.filter(pc.equal(newest["case_id"], case["id"]))
    assert mine["version_max"].to_pylist() == [
        district.rows("cases", "case_id = ?", [case["id"]])[0]["version"]
    ]
    assert newest.num_rows == len(district.rows("cases"))


def _current(district: Any, table: str) -> list[tuple[Any, ...]]:
    rows = district.rows(table)
    return sorted(tuple((k, v) for k, v in r.items() if k != "landed_at") for r in rows)


def _a_unit(district: Any) -> str:
    r = district.client.get("/api/v1/registry/units?limit=1", headers=district.head("admin"))
    assert r.status_code == 200, r.text
    return str(r.json()["items"][0]["code"])


def test_the_landing_loop_lands_by_itself_and_stops_with_the_platform(district):
    loop = landing.landing(district.platform)
    loop.start()
    case = district.report()
    district.platform.relay.flush()
    deadline = time.monotonic() + 15
    while not district.rows("cases", "case_id = ?", [case["id"]]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert district.rows("cases", "case_id = ?", [case["id"]])
    thread = loop.loop._thread if loop.loop else None
    district.platform.caches[landing.LOOP_KEY].stop()  # as platform.close() stops what its caches hold
    assert loop.loop is None and thread is not None and not thread.is_alive()


def test_the_loop_compacts_once_a_local_day(district):
    loop = landing.landing(district.platform)
    case = district.report()
    district.land()
    day = district.lake.local_date(district.platform.clock.now())
    folder = district.lake.root / "cases" / f"date={day}"

    def files() -> int:
        return len(list(folder.glob("*.parquet")))

    case = district.act("urban", case, "accept")
    district.platform.relay.flush()
    loop.step()  # the day's first step: lands the change, then compacts
    assert files() == 1
    case = district.act("urban", case, "start")
    district.platform.relay.flush()
    loop.step()  # the same day: lands, does not compact again
    assert files() == 2
    district.platform.clock.advance(timedelta(days=1))
    loop.step()
    assert files() == 1
    [row] = district.rows("cases", "case_id = ?", [case["id"]])
    assert row["state"] == case["state"] == "in_progress"
