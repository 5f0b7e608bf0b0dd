"""A consumer can never read a field it was not granted, nor the clear value of a masked one: not through
rows, exports, filters, sorting or error messages."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from tests.domains.datahub.conftest import ELDERLY_CSV, Hub

# What the police were not granted (phone, street) and what they see only masked (name, id_number).
SECRETS = ["13812345678", "13987654321", "440304193801011234", "张三丰", "李秀英"]


@pytest.fixture
def granted(hub: Hub) -> Hub:
    hub.publish_elderly()
    req = hub.ask(fields=["person_id", "name", "id_number", "phone", "age"])
    hub.decide(req["id"], fields=["person_id", "name", "id_number", "age"])  # no phone, names masked
    return hub


def test_rows_hold_only_granted_fields_and_masked_values(granted: Hub) -> None:
    page = granted.rows(sort="person_id")
    assert [set(item) for item in page["items"]] == [{"person_id", "name", "id_number", "age"}] * 4
    assert {f["name"]: f["mode"] for f in page["fields"]} == {
        "person_id": "clear", "name": "masked", "id_number": "masked", "age": "clear"}  # fmt: skip
    text = json.dumps(page, ensure_ascii=False)
    assert not [s for s in SECRETS if s in text]


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
def test_exports_hold_only_granted_fields_and_masked_values(granted: Hub, fmt: str) -> None:
    r = granted.client.get(
        f"{granted.base}/datasets/elderly-care/export", params={"format": fmt}, headers=granted.head("police")
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-record-count"] == "4"
    if fmt == "parquet":
        table = pq.read_table(io.BytesIO(r.content))
        assert table.column_names == ["person_id", "name", "id_number", "age"]
        rows = table.to_pylist()
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(r.content.decode())))
        assert list(rows[0]) == ["person_id", "name", "id_number", "age"]
    else:
        rows = [json.loads(line) for line in r.content.decode().splitlines()]
        assert set(rows[0]) == {"person_id", "name", "id_number", "age"}
    assert sorted(row["id_number"] for row in rows)[0] == "4403**********1234"
    assert not [s for s in SECRETS if s.encode() in r.content]


def test_a_field_not_granted_cannot_be_filtered_or_sorted_on(granted: Hub) -> None:
    for params in ({"filter": "phone:eq:13812345678"}, {"sort": "phone"}, {"sort": "-street_code"},
                   {"filter": "street_code:eq:440304004"}):  # fmt: skip
        body = granted.rows(expect=422, **params)
        assert body["code"] == "datahub.field_not_granted"
        # the answer names the grant's fields and nothing else of the dataset
        assert "needs_visit" not in json.dumps(body, ensure_ascii=False)


def test_an_unknown_field_and_a_withheld_field_get_the_same_answer(granted: Hub) -> None:
    withheld = granted.rows(expect=422, filter="phone:eq:1")
    unknown = granted.rows(expect=422, filter="no_such_field:eq:1")
    assert withheld["messages"]["en"].replace("phone", "X") == unknown["messages"]["en"].replace(
        "no_such_field", "X"
    )


def test_a_masked_field_filters_on_its_masked_value_only(granted: Hub) -> None:
    # the clear number matches nothing: no guessing a number digit by digit
    assert granted.rows(filter="id_number:eq:440304193801011234")["total"] == 0
    # ranges compare the masked strings ('*' sorts before every digit), whatever the clear numbers are
    assert granted.rows(filter="id_number:gte:4403041938")["total"] == 0
    assert granted.rows(filter="id_number:lt:4403041938")["total"] == 4
    assert granted.rows(filter="name:eq:张三丰")["total"] == 0
    assert granted.rows(filter="name:eq:张**")["total"] == 1
    # sorting by a masked field orders the masked strings, which reveals nothing more than they do
    names = [i["name"] for i in granted.rows(sort="name")["items"]]
    assert names == sorted(names)


def test_filter_values_are_data_not_sql(granted: Hub) -> None:
    body = granted.rows(expect=422, filter="age:eq:1 OR 1=1")
    assert body["code"] == "datahub.bad_value" and "age" in body["message"]
    page = granted.rows(filter="name:eq:' OR '1'='1")
    assert page["total"] == 0
    assert granted.rows(filter="age:in:86|82")["total"] == 2
    assert granted.rows(expect=422, filter="age~86")["code"] == "datahub.bad_filter"


def test_owner_row_conditions_cannot_be_widened_by_the_consumer(hub: Hub) -> None:
    hub.publish_elderly()
    req = hub.ask(fields=["person_id", "age"])
    hub.decide(req["id"], rows=[{"field": "street_code", "op": "eq", "value": "440304001"}])
    assert hub.rows()["total"] == 2
    # a consumer's condition can only narrow; the street it may not see stays out
    assert hub.rows(filter="age:gte:0")["total"] == 2
    assert hub.rows(filter="person_id:in:1|2")["total"] == 0


def test_a_wrong_upload_is_refused_and_changes_nothing(granted: Hub) -> None:
    bad = b"person_id,name\n1,x\n"
    body = granted.upload("elderly-care", bad, expect=422)
    assert body["code"] == "datahub.schema_mismatch" and "id_number" in body["messages"]["zh-CN"]
    body = granted.upload("elderly-care", ELDERLY_CSV.replace(b",86,", b",old,"), expect=422)
    assert body["code"] == "datahub.bad_file"
    assert granted.rows()["total"] == 4
