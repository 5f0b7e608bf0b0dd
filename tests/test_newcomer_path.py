"""The README's quick start in a clean clone: `make demo` sets everything up and serves the district, the
printed credentials let a newcomer in, the README's own shell commands give what it says they give, and the
light show's crowd warning fires and starts the crowd plan. (`make test` in a clean clone is what CI runs.)
Marked ``newcomer``: `pytest -m newcomer` runs it alone."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.newcomer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_clone(dest: Path) -> None:
    """The repository as a commit of the working tree would hold it: a clone of HEAD, then the tree's changes
    to tracked files and its new files that git does not ignore (no var/, no .venv/). In CI that is HEAD."""
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(dest)], check=True)
    diff = subprocess.run(
        ["git", "diff", "HEAD", "--binary"], cwd=REPO, capture_output=True, check=True
    ).stdout
    if diff.strip():
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=dest, input=diff, check=True)
    new = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    for name in filter(None, new.decode().split("\0")):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, dest / name)


def _quick_start_commands(port: int) -> str:
    """The README's quick-start shell blocks after `make demo`, pointed at the test's port."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert blocks[0].strip() == "make demo"
    return "set -eu\n" + "".join(blocks[1:]).replace("127.0.0.1:8000", f"127.0.0.1:{port}")


def test_make_demo_in_a_clean_clone(tmp_path):
    clone = tmp_path / "urbanbrain"
    _clean_clone(clone)
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
        creds = json.loads((clone / "var" / "demo-credentials.json").read_text())
        operator = creds["accounts"]["operator"]
        assert len(operator["password"]) >= 12
        token = httpx.post(
            base + "/api/v1/auth/token", data={"username": "operator", "password": operator["password"]}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        summary = httpx.get(base + "/api/v1/registry/summary", headers=auth).json()
        assert summary["buildings"] > 4000 and summary["areas"]["community"] == 93
        assert httpx.get(base + "/docs").status_code == 200
        # `make demo` built the web UI: the command centre is at /, with its scripts served from the machine
        page = httpx.get(base + "/")
        assert page.status_code == 200 and '<div id="app">' in page.text
        for asset in re.findall(r'src="(/assets/[^"]+\.js)"', page.text):
            assert httpx.get(base + asset).status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert httpx.get(base + "/api/v1/ui/config").json()["open311_key"] == creds["open311"]["api_key"]
        # The simulated month gives the centre's statistics real figures from the first start.
        month = httpx.get(base + "/api/v1/cases/statistics", headers=auth).json()
        assert month["totals"]["dispatched"] > 500 and month["totals"]["closed"] > 300
        assert 0 < month["totals"]["on_time"] < month["totals"]["resolved"]
        assert month["verification"]["passed"] > 0 and month["verification"]["failed"] > 0
        # ... and the season of inspections the fire-safety statistics (the last 30 days).
        season = httpx.get(base + "/api/v1/fire_safety/statistics", headers=auth).json()
        assert season["inspections"]["routine"] > 500 and season["inspections"]["re_inspection"] > 100
        hazards = season["hazards"]
        assert hazards["found"] > 100 and 0 < hazards["closed_on_time"] < hazards["closed"]
        assert hazards["escalated"] > 0 and hazards["failures"] > 0
        _fire_safety_devices(base, auth, creds)
        _the_data_hub_and_the_brief(base, auth, creds)
        _the_readme_commands(clone, port)
        printed = _printed_whole(tmp_path / "demo.log", creds, base)
        assert "replayed a season of fire-safety inspections in 水围村" in printed
        _the_light_show(proc, tmp_path / "demo.log", clone / "var", base, auth)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _the_readme_commands(clone: Path, port: int) -> None:
    """The quick start's commands, word for word, in the clone: the outputs it shows come out."""
    done = subprocess.run(
        ["bash", "-c", _quick_start_commands(port)], cwd=clone, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    located, inspections, hazards, discovery, created, fetched = _json_values(done.stdout)
    assert (located["community_code"], located["community_name"]) == ("440304004028", "水围社区")
    assert inspections["routine"] > 2000 and hazards["found"] > 500  # the whole season
    assert hazards["escalated"] > 0 and 0 < hazards["on_time_rate"] < 1
    assert discovery["endpoints"][0]["url"].startswith(f"http://127.0.0.1:{port}/open311/v2")  # from /v2/
    number = created[0]["service_request_id"]
    assert re.fullmatch(r"440304-C0201-\d{6}", number)
    assert fetched[0]["service_request_id"] == number  # the GET fetches the request just filed
    assert fetched[0]["status"] == "open" and fetched[0]["description"] == "水围村路灯不亮"
    assert fetched[0]["agency_responsible"]


def _json_values(text: str) -> list:
    """The JSON values a run of commands printed one after another (curl ends none with a newline)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return values
        value, at = decoder.raw_decode(text, at)
        values.append(value)


def _printed_whole(path: Path, creds: dict, base: str) -> str:
    """The printed output names every key, password and URL on one line: none is cut by wrapping. The live
    devices say, once the server is up, when the fire's smoke warning and confirmation will come."""
    deadline = time.monotonic() + 60
    while "the confirmed fire (red, then its case) at" not in path.read_text():
        assert time.monotonic() < deadline, path.read_text()[-3000:]
        time.sleep(1)
    printed = path.read_text()
    lines = printed.splitlines()
    whole = [
        *(a["password"] for a in creds["accounts"].values()),
        creds["open311"]["api_key"],
        creds["devices"]["api_key"],
        f"{base}/docs",
        f"{base}/ (the command centre",
        f"{base}/open311/v2/",
        f"{base}/api/v1/alerts/stream",
        f"{base}/api/v1/fire_safety/villages/440304004028-V01/fire-map",
    ]
    for text in whole:
        assert any(text in line for line in lines), f"{text!r} is not printed on one line"
    return printed


def _login(base: str, creds: dict, name: str) -> dict[str, str]:
    password = creds["accounts"][name]["password"]
    r = httpx.post(base + "/api/v1/auth/token", data={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _the_data_hub_and_the_brief(base: str, auth: dict[str, str], creds: dict) -> None:
    """The demo's catalog, a request the centre's steward approves, the month of cases read masked from the
    lake; the decision-support KPIs of that month and yesterday's brief as a PDF."""
    hub = base + "/api/v1/datahub"
    steward, handler = _login(base, creds, "steward"), _login(base, creds, "handler")
    codes = {d["code"] for d in httpx.get(hub + "/datasets", headers=handler).json()["items"]}
    assert {"registry-buildings", "registry-residents", "cases", "alarms", "readings"} <= codes
    asked = httpx.post(hub + "/requests", headers=handler, json={
        "dataset": "cases", "purpose": "城管案件月度分析", "fields": ["case_id", "state", "category_code",
                                                                     "reporter_name", "reported_at"]})  # fmt: skip
    assert asked.status_code == 201, asked.text
    decided = httpx.post(hub + f"/requests/{asked.json()['id']}/decision", headers=steward,
                         json={"decision": "approve"})  # fmt: skip
    assert decided.status_code == 200 and decided.json()["state"] == "approved", decided.text
    rows = httpx.get(hub + "/datasets/cases/rows", headers=handler, params={"page_size": 5}).json()
    assert rows["total"] > 500  # the replayed month, landed in the lake
    names = [i["reporter_name"] for i in rows["items"] if i["reporter_name"]]
    assert all(set(n[1:]) == {"*"} for n in names)  # masked
    insight = base + "/api/v1/insight"
    assert httpx.post(insight + "/refresh", headers=auth, timeout=120).status_code == 200
    kpis = httpx.get(insight + "/kpis", headers=auth, timeout=30).json()
    assert kpis["cases"]["reported"] > 500 and kpis["on_time"]["dispatched"] > 300
    pdf = httpx.get(insight + f"/briefs/{kpis['to']}.pdf", headers=auth, timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:300]


def _fire_safety_devices(base: str, auth: dict[str, str], creds: dict) -> None:
    """The demo's 水围村 devices: a replayed day whose fire opened a case, a fire map, live readings."""
    assert creds["devices"]["api_key"]  # the gateway's MQTT password
    fire_map = httpx.get(base + "/api/v1/fire_safety/villages/440304004028-V01/fire-map", headers=auth).json()
    assert len(fire_map["features"]) == 318
    assert all(f["properties"]["devices"] == 4 for f in fire_map["features"])
    assert fire_map["properties"]["by_status"]["hazard"] > 0  # hazards of the season not closed yet
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


def _the_light_show(proc: subprocess.Popen, log: Path, var: Path, base: str, auth: dict[str, str]) -> None:
    """The Civic Center plaza's evening (simulated by JuPedSim on the first start, while the district loads):
    its forecast warning comes at least ten minutes of event time before the simulated truth reaches 5
    persons/m², at the event time the demo printed, and the crowd plan starts from it."""
    evening_file = var / "crowd-evening.json"  # written as the evening starts streaming
    deadline = time.monotonic() + 300
    while not evening_file.exists():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(2)
    evening = json.loads(evening_file.read_text())
    record = json.loads((var / evening["record"]).read_text())  # JuPedSim's truth, as the demo cached it
    danger_s = next(t for t, d in zip(record["t_s"], record["density"], strict=True) if d >= 5.0)
    assert evening["danger_ts"] == evening["start_ts"] + danger_s
    zone = {"zone": "CC-PLAZA", "type": "crowd"}
    deadline = time.monotonic() + 360  # the evening streams in about four minutes
    while not (
        incidents := httpx.get(base + "/api/v1/linkage/incidents", params=zone, headers=auth).json()["items"]
    ):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(2)
    alarms = httpx.get(
        base + "/api/v1/sensing/alarms", params={"origin": "crowd:CC-PLAZA", "page_size": 100}, headers=auth
    ).json()["items"]
    this_evening = [a for a in reversed(alarms) if _ts(a["event_at"]) >= evening["first_ts"]]
    warning = next(
        a for a in this_evening if a["alarm_type"] == "crowd.forecast" or a["level"] in ("orange", "red")
    )
    assert evening["danger_ts"] - _ts(warning["event_at"]) >= 600  # ten minutes before the danger, or more
    expected = evening["warnings"]
    assert (warning["alarm_type"], warning["level"], _ts(warning["event_at"])) == next(
        (w["alarm_type"], w["level"], w["event_ts"]) for w in expected
        if w["alarm_type"] == "crowd.forecast" or w["level"] in ("orange", "red")
    )  # fmt: skip
    (incident,) = incidents
    started = next(a for a in this_evening if a["id"] == incident["alarm_id"])
    assert started["level"] in ("orange", "red") and incident["first_level"] == started["level"]
    assert incident["state"] == "active" and incident["tasks_total"] > 0
    assert "light show: streaming the evening of" in log.read_text()


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
