"""Fixtures for data-hub tests: the seeded district and the people of three departments acting through HTTP:
civil affairs owns a register of elderly residents (an uploaded dataset), the police and the street office
ask for it, the command centre's steward owns the platform's own datasets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Api, People

BASE = "/api/v1/datahub"
STREET = "street-440304004"  # 福田街道办事处, a street office of the demo district

ELDERLY_CSV = (
    "person_id,name,id_number,phone,street_code,age,needs_visit\n"
    "1,张三丰,440304193801011234,13812345678,440304004,86,true\n"
    "2,李秀英,440304194203035678,13987654321,440304004,82,false\n"
    "3,王建国,440304195005059012,13700001111,440304001,74,true\n"
    "4,赵敏,440304196007074321,13600002222,440304001,64,false\n"
).encode()
ELDERLY_FIELDS = [
    {"name": "person_id", "type": "integer", "description": "人员编号", "description_en": "person number"},
    {"name": "name", "type": "string", "description": "姓名", "protected": True, "mask": "name"},
    {
        "name": "id_number",
        "type": "string",
        "description": "身份证号",
        "protected": True,
        "mask": "id_number",
    },
    {"name": "phone", "type": "string", "description": "联系电话", "protected": True, "mask": "phone"},
    {"name": "street_code", "type": "string", "description": "所在街道"},
    {"name": "age", "type": "integer", "description": "年龄"},
    {"name": "needs_visit", "type": "boolean", "description": "需要上门探访"},
]


class Hub(People):
    base = BASE

    def publish_elderly(self, sharing_class: str = "conditional") -> Any:
        body = {
            "code": "elderly-care",
            "title_zh": "独居老人关爱名册",
            "title_en": "Elderly living alone",
            "owner_department": "civil_affairs",
            "source_kind": "upload",
            "update_frequency": "monthly",
            "sharing_class": sharing_class,
            "keywords": ["老人", "elderly"],
            "fields": ELDERLY_FIELDS,
        }
        self.call("POST", "civil", "/datasets", 201, json=body)
        return self.upload("elderly-care", ELDERLY_CSV)

    def upload(
        self, code: str, data: bytes, who: str = "civil", expect: int = 200, kind: str = "text/csv"
    ) -> Any:
        r = self.client.post(f"{self.base}/datasets/{code}/upload", content=data,
                             headers={**self.head(who), "content-type": kind})  # fmt: skip
        assert r.status_code == expect, r.text
        return r.json()

    def ask(self, who: str = "police", fields: list[str] | None = None, **kw: Any) -> Any:
        body = {"dataset": "elderly-care", "purpose": "台风前上门排查独居老人", "fields": fields or
                ["person_id", "name", "id_number", "phone", "age"], **kw}  # fmt: skip
        return self.call("POST", who, "/requests", 201, json=body)

    def decide(self, request_id: int, expect: int = 200, who: str = "civil", **body: Any) -> Any:
        return self.call("POST", who, f"/requests/{request_id}/decision", expect, json={"decision": "approve",
                         **body})  # fmt: skip

    def rows(self, who: str = "police", expect: int = 200, **params: Any) -> Any:
        return self.call("GET", who, "/datasets/elderly-care/rows", expect, params=params)


@pytest.fixture
def hub(api: Api) -> Iterator[Hub]:
    yield Hub(
        api,
        {
            "civil": ("data_steward", {"department": "civil_affairs"}),
            "police": ("dept_handler", {"department": "police"}),
            "street": ("street_officer", {"department": STREET, "area": "440304004"}),
            "steward": ("data_steward", {"department": "smart_city_office"}),
            "admin": ("admin", {}),
            "grid": ("grid_worker", {"area": "440304004028"}),
        },
    )
