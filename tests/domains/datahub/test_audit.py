"""Every access to shared data is in the hash-chained audit (who, which grant, what purpose, how many rows),
refusals too, and counts in the usage statistics."""

from __future__ import annotations

from sqlalchemy import select

from tests.domains.datahub.conftest import Hub
from urbanbrain.core import audit
from urbanbrain.core.models import AuditEntry


def _data_entries(hub: Hub) -> list[AuditEntry]:
    with hub.platform.db.session() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("datahub.data.%")).order_by(AuditEntry.seq)
        ).all()
        session.expunge_all()
    return list(rows)


def test_every_read_export_and_refusal_is_audited_in_the_chain(hub: Hub) -> None:
    hub.publish_elderly()
    hub.rows(expect=403)  # before any grant: refused, and logged
    grant = hub.decide(hub.ask()["id"])["grant"]
    hub.rows(page_size=3)
    hub.rows(page=2, page_size=3, filter="age:gte:60")
    r = hub.client.get(f"{hub.base}/datasets/elderly-care/export", params={"format": "csv"},
                       headers=hub.head("police"))  # fmt: skip
    assert r.status_code == 200

    entries = _data_entries(hub)
    assert [e.action for e in entries] == ["datahub.data.refused", "datahub.data.rows", "datahub.data.rows",
                                            "datahub.data.export"]  # fmt: skip
    refused, first, second, export = entries
    assert refused.after["refused"] == "datahub.no_grant" and refused.after["rows"] == 0
    for e, rows in ((first, 3), (second, 1), (export, 4)):
        assert e.actor.startswith("user:dept_handler")
        assert e.entity_id == str(grant["id"])
        assert e.after["grant"] == grant["id"]
        assert e.after["purpose"] == "台风前上门排查独居老人"
        assert e.after["rows"] == rows
    assert second.after["filters"] == ["age:gte:60"] and export.after["format"] == "csv"
    with hub.platform.db.session() as session:
        checked, problems = audit.verify_chain(session)
    assert problems == [] and checked > 4

    # the owner reads the same log through the API; another department's steward sees none of it
    log = hub.call("GET", "civil", "/access-log")
    assert [e["action"] for e in log["items"]] == ["datahub.data.export", "datahub.data.rows",
                                                   "datahub.data.rows", "datahub.data.refused"]  # fmt: skip
    assert log["items"][0]["rows"] == 4 and log["items"][0]["consumer_department"] == "police"
    assert hub.call("GET", "steward", "/access-log")["total"] == 0


def test_usage_counts_records_per_dataset_and_consumer(hub: Hub) -> None:
    hub.publish_elderly()
    hub.decide(hub.ask()["id"])
    hub.decide(hub.ask(who="street", fields=["age"])["id"])
    hub.rows()
    hub.rows(page_size=1)
    hub.rows(who="street", filter="age:gt:80")
    usage = {u["consumer_department"]: u for u in hub.call("GET", "civil", "/usage")}
    assert usage["police"]["accesses"] == 2 and usage["police"]["records"] == 5
    assert usage["street-440304004"]["records"] == 2
    assert hub.call("GET", "police", "/usage", 403)["code"] == "auth.forbidden"
