"""A crowd scenario through the platform's real doors: the crowd device types installed where missing
(``PUT /api/v1/sensing/device-types/{code}``), its virtual devices provisioned (``POST
/api/v1/sensing/devices``), its zone declared (``PUT /api/v1/crowd/zones/{code}``), and its messages sent to
the HTTP readings door with ``ts`` the simulated event time, at a chosen speed of simulated time.

The functions take an ``httpx.Client`` whose ``base_url`` is the platform (a ``TestClient`` in the tests)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import httpx

from urbanbrain.domains.crowd.devices import DEVICE_TYPES
from urbanbrain.simulate.crowd.devices import Message, VirtualDevice, virtual_devices
from urbanbrain.simulate.crowd.venues import Venue

READINGS = "/api/v1/sensing/readings"


class PublishError(RuntimeError):
    """The platform refused a request other than by asking to slow down."""


def device_bodies(venue: Venue) -> list[dict[str, Any]]:
    """``POST /api/v1/sensing/devices`` bodies of the venue's virtual devices."""
    return [
        {
            "device_id": d.device_id,
            "type_code": d.type_code,
            "name": f"{venue.name.split(' / ')[0]} {d.source} ({d.type_code})",
            "lon": d.lon,
            "lat": d.lat,
        }
        for d in virtual_devices(venue)
    ]


def zone_body(venue: Venue, *, capacity: int | None = None, cell: bool = True) -> dict[str, Any]:
    """The ``PUT /api/v1/crowd/zones/{code}`` body: the zone's lon/lat polygon, its walkable area and every
    virtual device as an input (the phone cell's with role ``cell`` unless ``cell`` is false)."""
    inputs = [
        {"device_id": d.device_id, "role": d.role} for d in virtual_devices(venue) if cell or d.role != "cell"
    ]
    body: dict[str, Any] = {
        "name": venue.name,
        "area_m2": round(venue.zone_area_m2, 1),
        "geometry": venue.geojson(venue.zone),
        "inputs": inputs,
    }
    if capacity is not None:
        body["capacity"] = capacity
    return body


def _check(r: httpx.Response, what: str) -> httpx.Response:
    if not r.is_success:
        raise PublishError(f"{what} answered {r.status_code}: {r.text[:300]}")
    return r


def install_device_types(client: httpx.Client, headers: dict[str, str]) -> list[str]:
    """Install the crowd device types the platform lacks (those it has are left as they are); their codes."""
    r = _check(client.get("/api/v1/sensing/device-types", headers=headers), "listing device types")
    have = {t["code"] for t in r.json()}
    added = [t for t in DEVICE_TYPES if t["code"] not in have]
    for body in added:
        _check(client.put(f"/api/v1/sensing/device-types/{body['code']}", json=body, headers=headers),
               f"installing device type {body['code']}")  # fmt: skip
    return [t["code"] for t in added]


def provision(client: httpx.Client, venue: Venue, headers: dict[str, str]) -> list[VirtualDevice]:
    """Provision the venue's devices (those already there are left as they are)."""
    for body in device_bodies(venue):
        r = client.post("/api/v1/sensing/devices", json=body, headers=headers)
        if r.status_code != 409:
            _check(r, f"provisioning {body['device_id']}")
    return virtual_devices(venue)


def declare_zone(
    client: httpx.Client,
    venue: Venue,
    headers: dict[str, str],
    *,
    code: str | None = None,
    capacity: int | None = None,
) -> dict[str, Any]:
    """Declare (or update) the venue's crowd zone with its virtual devices as inputs."""
    code = code or venue.prefix  # zone codes are capitals, digits and hyphens: CC-PLAZA
    r = client.put(f"/api/v1/crowd/zones/{code}", json=zone_body(venue, capacity=capacity), headers=headers)
    return dict(_check(r, f"declaring zone {code}").json())


def newest_reading(client: httpx.Client, venue: Venue, headers: dict[str, str]) -> float | None:
    """The event time of the newest reading any of the venue's devices has sent (None: none yet): a new
    stream must start after it, since the door refuses a reading older than its device's newest."""
    newest = None
    for d in virtual_devices(venue):
        r = _check(
            client.get(f"/api/v1/sensing/devices/{d.device_id}", headers=headers), f"reading {d.device_id}"
        )
        for value in r.json()["latest"].values():
            ts = datetime.fromisoformat(value["ts"]).timestamp()
            newest = ts if newest is None else max(newest, ts)
    return newest


def stream(
    client: httpx.Client,
    messages: Sequence[Message],
    *,
    api_key: str,
    speed: float = 0.0,
    batch: int = 500,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_wait_s: float = 30.0,
    ahead_s: float | None = None,
    wall: Callable[[], float] = time.time,
) -> int:
    """Send the messages to the readings door in time order. ``speed``: simulated seconds per real second
    (0: as fast as the platform takes them); paced, each message leaves once its simulated time has come,
    messages of the same moment together. ``ahead_s``: no message leaves more than that before its event
    time on the ``wall`` clock (the door refuses readings from too far ahead). A 429 or 503 is waited out and
    the batch sent again."""
    if speed < 0:
        raise ValueError("speed must be 0 (as fast as possible) or positive")
    headers = {"X-API-Key": api_key}
    began = clock()
    first_ts = messages[0]["ts"] if messages else 0.0
    i = sent = 0
    while i < len(messages):
        wait = 0.0
        if speed > 0:
            ts = messages[i]["ts"]
            j = i
            while j < len(messages) and messages[j]["ts"] == ts and j - i < batch:
                j += 1
            wait = (ts - first_ts) / speed - (clock() - began)
        else:
            j = min(len(messages), i + batch)
        if ahead_s is not None:
            wait = max(wait, messages[j - 1]["ts"] - ahead_s - wall())
        if wait > 0:
            sleep(wait)
        chunk = list(messages[i:j])
        while True:
            r = client.post(READINGS, json=chunk, headers=headers)
            if r.status_code in (429, 503):
                sleep(min(max_wait_s, float(r.headers.get("Retry-After", "1") or 1)))
                continue
            _check(r, "the readings door")
            break
        sent += len(chunk)
        i = j
    return sent
