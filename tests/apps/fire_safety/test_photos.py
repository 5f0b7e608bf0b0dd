"""A grid worker photographs a hazard as found and again as fixed; the photos stay with the step they show,
are read back as sent, and only by people of the hazard's area."""

from __future__ import annotations

import struct
import zlib

from sqlalchemy import select

from tests.apps.fire_safety.conftest import BASE
from urbanbrain.core.models import AuditEntry


def _png(seed: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([seed % 256, 0x80, 0x00]) * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(200)) + b"\xff\xd9"


def _found(grid):
    [building] = grid.buildings(1)
    inspection = grid.inspect("worker", building["code"], ("blocked_escape", "楼梯堆放杂物"))
    return inspection["hazards"][0]


def _send(grid, who, code, *files, expect=201):
    parts = [("files", (name, data, "image/jpeg")) for name, data in files]
    r = grid.client.post(f"{BASE}/hazards/{code}/photos", headers=grid.head(who), files=parts)
    assert r.status_code == expect, r.text
    return r.json()


def test_photos_stay_with_the_step_they_show(grid):
    hazard = _found(grid)
    png = _png(1)
    detail = _send(grid, "worker", hazard["code"], ("a.jpg", JPEG), ("b.png", png))
    found = detail["history"][0]
    assert found["transition"] == "found" and len(found["photos"]) == 2

    rectified = grid.rectify("worker", detail)
    fixed = _send(grid, "worker", hazard["code"], ("after.png", _png(2)))
    steps = {h["transition"]: h["photos"] for h in fixed["history"]}
    assert steps["found"] == found["photos"]
    assert len(steps["rectify"]) == 1 and rectified["state"] == "rectified"

    first, second = found["photos"]
    got = grid.client.get(f"{BASE}/hazards/{hazard['code']}/photos/{first}", headers=grid.head("street"))
    assert got.status_code == 200 and got.content == JPEG and got.headers["content-type"] == "image/jpeg"
    got = grid.client.get(f"{BASE}/hazards/{hazard['code']}/photos/{second}", headers=grid.head("worker"))
    assert got.content == png and got.headers["content-type"] == "image/png"


def test_one_bad_file_keeps_none_of_them(grid):
    hazard = _found(grid)
    body = _send(grid, "worker", hazard["code"], ("a.jpg", JPEG), ("virus.jpg", b"MZ\x90\x00"), expect=415)
    assert body["code"] == "photo.type" and "JPEG" in body["messages"]["en"]
    assert "JPEG" in body["messages"]["zh-CN"]
    body = _send(grid, "worker", hazard["code"], ("empty.jpg", b""), expect=422)
    assert grid.hazard("worker", hazard["code"])["history"][0]["photos"] == []


def test_only_the_hazards_area_sees_or_adds_photos(grid):
    hazard = _found(grid)
    [photo] = _send(grid, "worker", hazard["code"], ("a.jpg", JPEG))["history"][0]["photos"]
    # the neighbouring community's grid worker is told it is outside their area
    body = _send(grid, "outsider", hazard["code"], ("a.jpg", JPEG), expect=403)
    assert body["code"] == "auth.out_of_scope"
    r = grid.client.get(f"{BASE}/hazards/{hazard['code']}/photos/{photo}", headers=grid.head("outsider"))
    assert r.status_code == 403 and r.json()["code"] == "auth.out_of_scope"
    # the street officer reviews but does not inspect
    body = _send(grid, "street", hazard["code"], ("a.jpg", JPEG), expect=403)
    assert body["code"] == "auth.forbidden"
    # a photo id is only found under its own hazard
    other = _found(grid)
    r = grid.client.get(f"{BASE}/hazards/{other['code']}/photos/{photo}", headers=grid.head("worker"))
    assert r.status_code == 404


def test_a_hazard_holds_at_most_twenty_photos(grid):
    hazard = _found(grid)
    _send(grid, "worker", hazard["code"], *[(f"{i}.png", _png(i)) for i in range(18)])
    body = _send(grid, "worker", hazard["code"], ("x.png", _png(30)), ("y.png", _png(31)), ("z.png", _png(32)),
                 expect=409)  # fmt: skip
    assert body["code"] == "fire_safety.photo_limit"
    assert len(grid.hazard("worker", hazard["code"])["history"][0]["photos"]) == 18


def test_the_photo_is_written_to_the_audit_and_the_bus(grid):
    hazard = _found(grid)
    heard = []
    listening = grid.platform.bus.listen("fire_safety.hazard.photographed", heard.append)
    try:
        _send(grid, "worker", hazard["code"], ("a.jpg", JPEG))
        grid.platform.relay.flush()
    finally:
        listening.close()
    assert [e.payload["code"] for e in heard] == [hazard["code"]]
    with grid.platform.db.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "fire_safety.hazard.photograph")).all()
        assert [(r.entity_id, r.after["step"], r.after["size"]) for r in rows] == [
            (str(hazard["id"]), "found", len(JPEG))
        ]
