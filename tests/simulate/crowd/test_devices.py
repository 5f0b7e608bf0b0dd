"""The virtual crowd devices err like real ones, the same way for the same seed."""

from __future__ import annotations

from dataclasses import replace

from urbanbrain.domains.crowd.physics import Record
from urbanbrain.simulate.crowd.devices import QUIET, Noise, messages, virtual_devices
from urbanbrain.simulate.crowd.venues import venue

PLAZA = venue("civic_plaza")
T0 = 1_531_094_400.0  # 2018-07-09 08:00 +08:00


def record(n: int = 120, in_zone: int = 100, flow: int = 8) -> Record:
    """A synthetic truth: ``n`` intervals, a steady crowd, ``flow`` persons in and out of each gate."""
    rec = Record(PLAZA.code, PLAZA.zone_area_m2, 10.0)
    rec.t_s = [10.0 * (i + 1) for i in range(n)]
    rec.in_zone = [in_zone] * n
    rec.density = [in_zone / PLAZA.zone_area_m2] * n
    for g in (*PLAZA.entrances, *PLAZA.exits):
        rec.gate_in[g.code] = [flow if g in PLAZA.entrances else 0] * n
        rec.gate_out[g.code] = [0 if g in PLAZA.entrances else flow] * n
    for cam in PLAZA.cameras:
        rec.camera[cam.code] = [in_zone // 2] * n
        rec.camera_area_m2[cam.code] = float(cam.coverage.area)
    rec.cell = list(range(200, 200 + n))
    rec.waiting = [0] * n
    return rec


def test_the_same_seed_gives_the_same_messages_and_another_seed_others():
    rec = record()
    first = messages(PLAZA, rec, start_ts=T0, seed=7)
    assert first == messages(PLAZA, rec, start_ts=T0, seed=7)
    assert first != messages(PLAZA, rec, start_ts=T0, seed=8)
    ids = {m["device"] for m in first}
    assert ids == {d.device_id for d in virtual_devices(PLAZA)}
    assert {"CC-PLAZA-E1", "CC-PLAZA-X1", "CC-PLAZA-CAM1", "CC-PLAZA-CELL1"} <= ids


def test_quiet_counters_count_exactly_what_crossed():
    rec = record()
    sent = messages(PLAZA, rec, start_ts=T0, noise=QUIET)
    e1 = [m["values"] for m in sent if m["device"] == "CC-PLAZA-E1"]
    assert len(e1) == 120 and sum(v["in"] for v in e1) == 8 * 120 and sum(v["out"] for v in e1) == 0


def test_the_camera_misses_more_people_in_a_denser_crowd():
    noise = replace(QUIET, camera_miss_at_5=0.28)

    def seen_share(density: float) -> float:
        in_view = round(density * PLAZA.cameras[0].coverage.area)
        rec = record(in_zone=2 * in_view)
        counts = [
            m["values"]["head_count"]
            for m in messages(PLAZA, rec, start_ts=T0, noise=noise)
            if m["device"] == "CC-PLAZA-CAM1"
        ]
        return sum(counts) / (len(counts) * in_view)

    at_1, at_3, at_5 = seen_share(1.0), seen_share(3.0), seen_share(5.0)
    assert at_1 > 0.97 and at_1 > at_3 > at_5
    assert 0.65 < at_5 < 0.8  # about 28% missed at 5 p/m²


def test_a_counter_that_drops_out_sends_nothing_then_only_what_it_counted_after():
    noise = replace(QUIET, dropouts=(("E1", 300.0, 600.0),))
    sent = messages(PLAZA, record(), start_ts=T0, noise=noise)
    e1 = sorted(m["ts"] - T0 for m in sent if m["device"] == "CC-PLAZA-E1")
    gap = [b - a for a, b in zip(e1, e1[1:], strict=False) if b - a > 10]
    assert gap == [320.0] and not any(300 <= t < 610 for t in e1)
    after = next(m for m in sent if m["device"] == "CC-PLAZA-E1" and m["ts"] - T0 == 610.0)
    assert after["values"]["in"] == 8  # the interval after it came back, not the outage's crossings
    assert sum(1 for m in sent if m["device"] == "CC-PLAZA-E2") == 120  # the others go on


def test_random_dropouts_last_minutes_and_differ_per_device():
    noise = Noise(dropouts_per_hour=3.0)
    sent = messages(PLAZA, record(n=360), start_ts=T0, seed=1, noise=noise)
    gaps = {}
    for d in virtual_devices(PLAZA):
        ts = sorted(m["ts"] for m in sent if m["device"] == d.device_id)
        gaps[d.device_id] = max((b - a for a, b in zip(ts, ts[1:], strict=False)), default=0)
    assert any(g >= 180 for g in gaps.values())
    assert len(set(gaps.values())) > 1


def test_the_phone_cell_is_late_and_every_minute():
    noise = replace(QUIET, cell_lag_s=180)
    cell = [m for m in messages(PLAZA, record(), start_ts=T0, noise=noise) if m["device"] == "CC-PLAZA-CELL1"]
    assert [m["ts"] - T0 for m in cell[:2]] == [60.0, 120.0]
    assert cell[-1]["values"]["persons"] == 200 + 119 - 18  # the true count 3 minutes before
