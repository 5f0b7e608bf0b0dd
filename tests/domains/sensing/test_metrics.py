"""What Prometheus reads at /metrics about the readings: taken, dead-lettered by reason, alarms raised by
level, and the pipeline's queue and journal lag, moved by readings sent through the real HTTP door."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def scrape(site: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = site.client.get("/metrics")
    assert r.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
    }


def moved(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_readings_dead_letters_and_alarms_are_counted(site):
    before = scrape(site)
    now = site.now()
    sent = [
        site.message("EFM-1", {"residual_current_ma": 20.0, "cable_temp_c": 30.0}, ts=now - 60),
        site.message("TMP-1", {"temp_c": 24.0}),
        site.message("EFM-1", {"residual_current_ma": 320.0, "cable_temp_c": 35.0}),  # an orange alarm
        {"id": "x1", "device": "NOPE-9", "ts": now, "values": {"temp_c": 1.0}},
        {"id": "x2", "device": "TMP-1", "ts": "yesterday", "values": {"temp_c": 1.0}},
        {"id": "x3", "device": "TMP-1", "ts": now + 86400, "values": {"temp_c": 1.0}},
    ]
    r = site.send(sent)
    assert r.status_code == 202 and r.json()["readings"] == 5 and r.json()["dead_lettered"] == 3
    site.settle()
    after = scrape(site)
    assert moved(before, after, "urbanbrain_readings_total") == 5
    assert moved(before, after, "urbanbrain_dead_letters_total", reason="unknown_device") == 1
    assert moved(before, after, "urbanbrain_dead_letters_total", reason="bad_timestamp") == 2
    assert moved(before, after, "urbanbrain_alarms_raised_total", level="orange") == 1
    assert moved(before, after, "urbanbrain_alarms_raised_total", level="red") == 0
    # Everything sent is processed: nothing queued, no journal record behind.
    assert after[("urbanbrain_pipeline_queued_readings", ())] == 0
    assert after[("urbanbrain_journal_lag_records", ())] == 0

    # Raised again while open: the same alarm counts it, no new alarm; a repeated batch is not taken again.
    site.send([site.message("EFM-1", {"residual_current_ma": 330.0}, ts=now + 1)])
    assert site.send(sent).json()["duplicates"] == 3
    site.settle()
    again = scrape(site)
    assert moved(after, again, "urbanbrain_readings_total") == 1
    assert moved(after, again, "urbanbrain_alarms_raised_total", level="orange") == 0


def test_a_body_that_is_not_json_is_counted_as_a_dead_letter(site):
    before = scrape(site)
    assert (
        site.client.post("/api/v1/sensing/readings", content=b"{not", headers=site.admin).status_code == 422
    )
    site.settle()
    after = scrape(site)
    assert moved(before, after, "urbanbrain_dead_letters_total", reason="not_json") == 1
    assert moved(before, after, "urbanbrain_readings_total") == 0
