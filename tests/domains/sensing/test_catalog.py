"""The device and rule catalog each process keeps: a change is noticed on the next look, even one made at
the same instant as the change before it (the tests' clock stands still; two changes in one clock tick)."""

from __future__ import annotations

from urbanbrain.domains.sensing.ingest.catalog import Catalog


def _look(site, catalog: Catalog, *, force: bool = False):
    platform = site.platform
    with platform.db.sessionmaker() as session:
        return catalog.reload(session, platform, force=force)


def test_a_device_changed_in_the_same_instant_as_it_was_provisioned_is_noticed(site):
    catalog = Catalog()
    _look(site, catalog, force=True)
    assert "EFM-1" in catalog.active
    changed, _ = _look(site, catalog)
    assert not changed  # nothing new: nothing read again
    r = site.client.patch("/api/v1/sensing/devices/EFM-1", json={"status": "disabled"}, headers=site.admin)
    assert r.status_code == 200, r.text
    changed, _ = _look(site, catalog)
    assert changed and "EFM-1" not in catalog.active


def test_a_rule_changed_in_the_same_instant_is_noticed(site):
    catalog = Catalog()
    _, rules = _look(site, catalog, force=True)
    rule = next(r for r in rules if r.kind == "threshold")
    current = site.client.get("/api/v1/sensing/rules", headers=site.admin).json()
    body = next(r for r in current if r["code"] == rule.code)
    r = site.client.put(
        f"/api/v1/sensing/rules/{rule.code}",
        json={"code": rule.code, "spec": body["spec"], "description": "changed", "active": False},
        headers=site.admin,
    )
    assert r.status_code == 200, r.text
    _, rules = _look(site, catalog)
    assert rules is not None and rule.code not in {r.code for r in rules}
