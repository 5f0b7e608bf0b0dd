"""Logging in, tokens, API keys and passwords, through real HTTP on both backends."""

from datetime import timedelta

from sqlalchemy import select

from urbanbrain.core.models import User


def test_password_flow_issues_a_token_that_identifies_the_user(api):
    headers = api.user("street_officer", area="440304004")
    me = api.client.get("/api/v1/auth/me", headers=headers).json()
    assert me["role"] == "street_officer"
    assert me["scope"] == "street" and me["area_code"] == "440304004"
    assert me["role_name"]["zh-CN"] == "街道工作人员"
    assert "registry.pii.read" in me["permissions"]


def test_wrong_password_is_refused_with_a_code(api):
    api.user("operator")
    r = api.client.post("/api/v1/auth/token", data={"username": "operator-x", "password": "nope"})
    assert r.status_code == 401
    assert r.json()["code"] == "auth.bad_credentials"
    assert r.headers["www-authenticate"] == "Bearer"


def test_token_expires_on_the_platform_clock(api):
    headers = api.user("operator")
    assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 200
    api.platform.clock.advance(timedelta(minutes=api.platform.settings.token_minutes + 1))
    r = api.client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "auth.token_invalid"


def test_forged_token_is_refused(api):
    r = api.client.get("/api/v1/auth/me", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged"})
    assert r.status_code == 401 and r.json()["code"] == "auth.token_invalid"


def test_passwords_are_stored_as_argon2id(api):
    api.user("verifier")
    with api.platform.db.session() as s:
        hashes = s.scalars(select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_api_key_with_scope_reads_but_cannot_write_or_see_people(api):
    admin = api.user("admin")
    r = api.client.post(
        "/api/v1/auth/api-keys", headers=admin, json={"name": "open data portal", "scopes": ["registry:read"]}
    )
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert key.startswith("ub_")
    as_key = {"X-API-Key": key}
    assert api.client.get("/api/v1/registry/facilities?page_size=1", headers=as_key).status_code == 200
    r = api.client.get("/api/v1/registry/residents", headers=as_key)
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    r = api.client.post(
        "/api/v1/registry/departments",
        headers=as_key,
        json={"code": "x", "name": "x", "name_en": "x", "kind": "functional"},
    )
    assert r.status_code == 403
    # The listing never shows the secret again.
    listed = api.client.get("/api/v1/auth/api-keys", headers=admin).json()
    assert all("key" not in k for k in listed)
    # Revoked keys stop working at once.
    key_id = r_id = next(k["id"] for k in listed if k["name"] == "open data portal")
    assert api.client.delete(f"/api/v1/auth/api-keys/{r_id}", headers=admin).status_code == 200
    r = api.client.get("/api/v1/registry/facilities", headers=as_key)
    assert r.status_code == 401 and r.json()["code"] == "auth.api_key_invalid"
    assert key_id


def test_unknown_scope_and_weak_password_are_clear_4xx(api):
    admin = api.user("admin")
    r = api.client.post("/api/v1/auth/api-keys", headers=admin, json={"name": "k", "scopes": ["everything"]})
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"
    r = api.client.post(
        "/api/v1/auth/users",
        headers=admin,
        json={"username": "shorty", "password": "123", "role": "operator"},
    )
    assert r.status_code == 422 and r.json()["code"] == "auth.weak_password"
    r = api.client.post(
        "/api/v1/auth/users",
        headers=admin,
        json={"username": "handler", "password": "long enough password", "role": "dept_handler"},
    )
    assert r.status_code == 422 and r.json()["code"] == "auth.scope_required"
    r = api.client.post(
        "/api/v1/auth/users",
        headers=admin,
        json={
            "username": "handler",
            "password": "long enough password",
            "role": "dept_handler",
            "department_code": "water",
        },
    )
    assert r.status_code == 201 and r.json()["department_id"] is not None


def test_only_admins_manage_users(api):
    operator = api.user("operator")
    r = api.client.get("/api/v1/auth/users", headers=operator)
    assert r.status_code == 403
    assert r.json()["messages"]["zh-CN"].startswith("您的角色")


def test_tokens_follow_a_simulated_clock_ahead_of_the_wall(api):
    """A simulation running in the future still logs people in: tokens are judged on the platform's clock."""
    api.platform.clock.advance(timedelta(days=365 * 20))
    headers = api.user("operator")
    assert api.client.get("/api/v1/auth/me", headers=headers).status_code == 200
