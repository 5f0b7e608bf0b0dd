"""The README's first command in a clean clone: `make demo` sets everything up and serves the district,
and a newcomer can log in with the printed credentials. (`make test` in a clean clone is what CI runs.)"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_demo_in_a_clean_clone(tmp_path):
    clone = tmp_path / "urbanbrain"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("URBANBRAIN_", "VIRTUAL_ENV"))}
    env["URBANBRAIN_PORT"] = str(port)
    env["URBANBRAIN_MQTT_URL"] = f"embedded://127.0.0.1:{_free_port()}"  # the demo's broker, on a free port
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        ["make", "demo"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise AssertionError("make demo did not serve within 10 minutes")
        printed = (tmp_path / "demo.log").read_text()
        creds = json.loads((clone / "var" / "demo-credentials.json").read_text())
        operator = creds["accounts"]["operator"]
        assert operator["password"] in printed and f"{base}/docs" in printed
        assert len(operator["password"]) >= 12
        token = httpx.post(
            base + "/api/v1/auth/token", data={"username": "operator", "password": operator["password"]}
        ).json()["access_token"]
        summary = httpx.get(
            base + "/api/v1/registry/summary", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert summary["buildings"] > 4000 and summary["areas"]["community"] == 93
        assert httpx.get(base + "/docs").status_code == 200
        # The simulated month gives the centre's statistics real figures from the first start.
        month = httpx.get(
            base + "/api/v1/cases/statistics", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert month["totals"]["dispatched"] > 500 and month["totals"]["closed"] > 300
        assert 0 < month["totals"]["on_time"] < month["totals"]["resolved"]
        assert month["verification"]["passed"] > 0 and month["verification"]["failed"] > 0
        # The printed Open311 key lets a newcomer file a citizen report at once.
        key = creds["open311"]["api_key"]
        assert key in printed
        r = httpx.post(
            base + "/open311/v2/requests.json",
            data={
                "api_key": key,
                "service_code": "C0201",
                "lat": "22.5262",
                "long": "114.0665",
                "description": "水围村路灯不亮",
            },
        )
        assert r.status_code == 200, r.text
        number = r.json()[0]["service_request_id"]
        got = httpx.get(base + f"/open311/v2/requests/{number}.json").json()[0]
        assert got["status"] == "open" and got["agency_responsible"]
        _fire_safety_devices(base, {"Authorization": f"Bearer {token}"}, creds, printed)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _fire_safety_devices(base: str, auth: dict[str, str], creds: dict, printed: str) -> None:
    """The demo's 水围村 devices: a replayed day whose fire opened a case, a fire map, live readings."""
    assert creds["devices"]["api_key"] in printed  # the gateway's MQTT password
    fire_map = httpx.get(base + "/api/v1/fire_safety/villages/440304004028-V01/fire-map", headers=auth).json()
    assert len(fire_map["features"]) == 318
    assert all(f["properties"]["devices"] == 4 for f in fire_map["features"])
    alarms = httpx.get(base + "/api/v1/sensing/alarms", headers=auth, params={"page_size": 200}).json()
    fires = [a for a in alarms["items"] if a["alarm_type"] == "fire"]
    assert fires and fires[0]["level"] == "red" and fires[0]["case_number"]
    case = httpx.get(base + f"/api/v1/cases/{fires[0]['case_number']}", headers=auth)
    assert case.status_code == 200 and case.json()["category_code"] == "E0701"
    # the live devices report over the embedded MQTT broker from the start
    before = httpx.get(base + "/api/v1/sensing/health", headers=auth).json()["readings"]
    deadline = time.monotonic() + 90
    while httpx.get(base + "/api/v1/sensing/health", headers=auth).json()["readings"] <= before:
        assert time.monotonic() < deadline, "no live readings within 90 s"
        time.sleep(2)
