"""The command centre's compact layers: every device as one short row with its state, and the alarms of a
window in event time for the time slider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.domains.sensing.test_fire_warning import _smoke_and_heat


def _rows(site) -> dict[str, tuple[str, str]]:
    r = site.client.get("/api/v1/sensing/map/devices", headers=site.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["columns"][:4] == ["lon", "lat", "state", "type"]
    return {row[4]: (body["states"][row[2]], body["types"][row[3]]) for row in body["rows"]}


def test_devices_are_silent_until_they_report_then_online_then_in_alarm(site):
    before = _rows(site)
    assert {d: before[d] for d in ("EFM-1", "SMK-1", "TMP-1")} == {
        "EFM-1": ("silent", "electrical_fire_monitor"),
        "SMK-1": ("silent", "smoke_detector"),
        "TMP-1": ("silent", "temp_sensor"),
    }
    t = site.now() - 30
    site.send([site.message("SMK-1", {"smoke_obscuration": 0.2, "temp_c": 26.0}, ts=t)])
    site.settle()
    assert _rows(site)["SMK-1"][0] == "online"
    site.send(_smoke_and_heat(site, t + 1))
    site.settle()
    rows = _rows(site)
    # the confirmed fire is a group alarm of the building: every device in it is drawn in alarm
    assert {rows[d][0] for d in ("SMK-1", "SMK-2", "TMP-1", "EFM-1")} == {"alarm"}


def test_a_disabled_device_is_drawn_as_disabled(site):
    r = site.client.patch("/api/v1/sensing/devices/SMK-2", json={"status": "disabled"}, headers=site.admin)
    assert r.status_code == 200, r.text
    assert _rows(site)["SMK-2"][0] == "disabled"


def test_device_map_needs_the_permission_to_read_devices(site):
    handler = site.api.user("dept_handler", department="water")
    r = site.client.get("/api/v1/sensing/map/devices", headers=handler)
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"


def test_the_timeline_holds_the_alarms_open_in_the_window_in_event_time(site):
    t = site.now() - 300
    site.send([site.message("SMK-2", {"smoke_obscuration": 4.5, "temp_c": 26.0}, ts=t),
               site.message("SMK-2", {"smoke_obscuration": 0.3, "temp_c": 26.0}, ts=t + 60)])  # fmt: skip
    site.settle()
    raised = datetime.fromtimestamp(t, UTC)

    def window(start: datetime, end: datetime) -> list[dict]:
        params = {"from": start.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z",
                  "to": end.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"}  # fmt: skip
        r = site.client.get("/api/v1/sensing/alarms/timeline", params=params, headers=site.admin)
        assert r.status_code == 200, r.text
        return r.json()["items"]

    seen = window(raised - timedelta(minutes=5), raised + timedelta(minutes=5))
    assert [(a["alarm_type"], a["status"]) for a in seen] == [("smoke", "cleared")]
    smoke = seen[0]
    assert datetime.fromisoformat(smoke["raised_at"]) == raised  # the reading's time, not when processed
    assert datetime.fromisoformat(smoke["cleared_at"]) == raised + timedelta(seconds=60)
    # before it was raised, and after it cleared, the slider shows nothing
    assert window(raised - timedelta(minutes=10), raised - timedelta(minutes=1)) == []
    assert window(raised + timedelta(minutes=2), raised + timedelta(minutes=3)) == []
    # a window the wrong way round is refused with a sentence, not an empty answer
    r = site.client.get("/api/v1/sensing/alarms/timeline", params={"from": "2018-07-09T10:00:00",
                        "to": "2018-07-09T09:00:00"}, headers=site.admin)  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"
