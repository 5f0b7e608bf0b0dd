"""Login throttling through real HTTP: a name that keeps failing waits, its neighbours behind the same address
do not, one address trying many names waits, and a flood is refused before any password is checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from urbanbrain.core.auth.actions import do_create_user
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.auth.throttle import CACHE_KEY, LoginThrottle

PASSWORD = "correct horse battery staple"


@pytest.fixture
def door(empty_api):
    """The app, with staff accounts alice and bob."""
    with empty_api.platform.db.session() as session:
        for name in ("alice", "bob"):
            do_create_user(
                session, empty_api.platform.clock, SYSTEM, username=name, password=PASSWORD, role="operator"
            )
    return empty_api


def login(client: TestClient, username: str, password: str = PASSWORD) -> tuple[int, dict, dict]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return r.status_code, r.json(), dict(r.headers)


def test_after_five_failures_even_the_right_password_waits_out_the_window(door):
    for _ in range(5):
        assert login(door.client, "alice", "wrong password")[0] == 401
    status, body, headers = login(door.client, "alice")
    assert status == 429 and body["code"] == "auth.too_many_attempts"
    assert headers["retry-after"] == "900"  # the clock stood still: the whole 15 minutes
    assert body["messages"]["zh-CN"] == "登录失败次数过多，请 900 秒后再试。"
    door.platform.clock.advance(timedelta(minutes=10))
    status, _, headers = login(door.client, "alice")
    assert status == 429 and headers["retry-after"] == "300"
    door.platform.clock.advance(timedelta(minutes=5))
    assert login(door.client, "alice")[0] == 200


def test_another_name_from_the_same_address_is_not_blocked(door):
    for _ in range(5):
        login(door.client, "alice", "wrong password")
    assert login(door.client, "alice")[0] == 429
    assert login(door.client, "bob")[0] == 200
    assert login(door.client, "bob", "wrong password")[0] == 401


def test_a_successful_login_clears_the_names_failures(door):
    for _ in range(4):
        login(door.client, "alice", "wrong password")
    assert login(door.client, "alice")[0] == 200
    for _ in range(4):
        assert login(door.client, "alice", "wrong password")[0] == 401
    assert login(door.client, "alice")[0] == 200


def test_one_address_trying_many_names_is_blocked_and_others_are_not(door):
    # 12 failures an address rather than 30: each is an Argon2 check, slow on purpose
    door.platform.caches[CACHE_KEY] = LoginThrottle(door.platform.clock, address_failures=12)
    for n in range(12):  # 3 tries each for 4 names: no name reaches its own limit
        assert login(door.client, f"guess-{n // 3}", "wrong password")[0] == 401
    status, body, headers = login(door.client, "bob")
    assert status == 429 and body["code"] == "auth.too_many_attempts" and headers["retry-after"] == "900"
    elsewhere = TestClient(door.client.app, client=("192.0.2.7", 50000))
    assert login(elsewhere, "bob")[0] == 200


def test_a_refused_login_does_no_password_work(door):
    """While every Argon2 slot is taken, a login that must be checked is told to come back (503), and one
    that is refused anyway is refused at once (429): it never asked for a slot."""
    throttle = door.platform.caches[CACHE_KEY] = LoginThrottle(
        door.platform.clock, verify_slots=1, verify_wait_s=0.05
    )
    for _ in range(5):
        login(door.client, "alice", "wrong password")
    with throttle.verifying():
        status, body, headers = login(door.client, "bob")
        assert status == 503 and body["code"] == "auth.busy" and headers["retry-after"] == "1"
        assert login(door.client, "alice")[0] == 429
    assert login(door.client, "bob")[0] == 200


def test_the_roles_table_has_a_declared_shape(door):
    headers = door.user("operator")
    roles = door.client.get("/api/v1/auth/roles", headers=headers).json()
    operator = next(r for r in roles if r["code"] == "operator")
    assert operator["name"] == {"zh-CN": "指挥中心值班员", "en": "Command-centre operator"}
    assert operator["scope"] == "all" and "cases.cases.manage" in operator["permissions"]
    schema = door.client.get("/openapi.json").json()
    assert "RolePublic" in schema["components"]["schemas"]
