"""The demo district's departments: functional bureaus, one office per street, one station per community.

Functional codes are fixed because other code routes work by them (a facility's owner, a licence's issuer,
the command centre); street and community units are derived from the area list so they always match it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from urbanbrain.demo.names import landline

DISTRICT_CODE = "440304"

FUNCTIONAL_DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("smart_city_office", "福田区智慧城市指挥中心", "Futian Smart City Command Centre"),
    ("police", "福田区公安分局", "Futian Public Security Sub-bureau"),
    ("fire", "福田区消防救援大队", "Futian Fire and Rescue Brigade"),
    ("traffic", "福田区交警大队", "Futian Traffic Police Brigade"),
    ("urban_management", "福田区城市管理和综合执法局", "Futian Urban Management and Law Enforcement Bureau"),
    (
        "roads_facilities",
        "福田区市政道路设施管理所",
        "Futian Municipal Roads and Facilities Management Office",
    ),
    ("environment", "福田区生态环境分局", "Futian Ecology and Environment Sub-bureau"),
    ("housing_construction", "福田区住房和建设局", "Futian Housing and Construction Bureau"),
    ("water", "福田区水务局", "Futian Water Affairs Bureau"),
    ("market_supervision", "福田区市场监督管理分局", "Futian Market Supervision Sub-bureau"),
    ("health", "福田区卫生健康局", "Futian Health Bureau"),
    ("civil_affairs", "福田区民政局", "Futian Civil Affairs Bureau"),
    ("emergency", "福田区应急管理局", "Futian Emergency Management Bureau"),
    (
        "culture_tourism",
        "福田区文化广电旅游体育局",
        "Futian Culture, Radio, Television, Tourism and Sports Bureau",
    ),
    ("justice", "福田区司法局", "Futian Justice Bureau"),
    ("transport", "福田区交通运输局", "Futian Transport Bureau"),
    ("planning", "福田区规划和自然资源分局", "Futian Planning and Natural Resources Sub-bureau"),
    ("education", "福田区教育局", "Futian Education Bureau"),
    ("human_resources", "福田区人力资源局", "Futian Human Resources Bureau"),
)
FUNCTIONAL_CODES: tuple[str, ...] = tuple(code for code, _, _ in FUNCTIONAL_DEPARTMENTS)


def _dept(code: str, name: str, name_en: str, kind: str, area_code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "name_en": name_en,
        "kind": kind,
        "area_code": area_code,
        "phone": landline(code),
    }


def demo_departments(areas: Iterable[Any]) -> list[dict[str, Any]]:
    """Departments of the demo district, functional bureaus first, then street offices and stations.

    ``areas`` is the :class:`~urbanbrain.demo.futian.AreaSpec` list; only its street and
    community entries are used, in their given order.
    """
    out = [_dept(code, name, en, "functional", DISTRICT_CODE) for code, name, en in FUNCTIONAL_DEPARTMENTS]
    areas = list(areas)
    for a in areas:
        if a.level == "street":
            out.append(
                _dept(f"street-{a.code}", f"{a.name}办事处", f"{a.name_en} Office", "street_office", a.code)
            )
    for a in areas:
        if a.level == "community":
            short = a.name.removesuffix("社区")
            en = a.name_en.removesuffix(" Community")
            out.append(
                _dept(
                    f"station-{a.code}",
                    f"{short}社区工作站",
                    f"{en} Community Work Station",
                    "community_station",
                    a.code,
                )
            )
    return out
