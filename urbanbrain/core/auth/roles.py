"""Roles as data: each role is a set of permissions and a data scope.

Scope says which rows a role sees: ``all``; ``department`` (rows its department owns); ``street`` or
``community`` (rows inside the user's area). Permissions are ``<domain>.<what>.<verb>`` strings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    name_zh: str
    name_en: str
    scope: str  # all | department | street | community
    permissions: frozenset[str]


READ = {"registry.read"}
REGISTRY_WRITE = {
    "registry.areas.write",
    "registry.buildings.write",
    "registry.venues.write",
    "registry.facilities.write",
    "registry.units.write",
    "registry.residents.write",
}
PEOPLE = {"registry.residents.read"}
PII = {"registry.pii.read"}
CASES_READ = {"cases.cases.read", "cases.cases.report"}
CASES_ADMIN = {"cases.cases.manage", "cases.cases.handle", "cases.cases.verify", "cases.routing.write",
               "cases.calendar.write"}

# The fire-safety grid (apps/fire_safety): grid workers inspect, record hazards, report rectification and
# re-inspect in their community; street officers and the centre re-inspect (close) and escalate.
FIRE_READ = {"fire_safety.read"}
FIRE_REVIEW = {"fire_safety.hazards.reinspect", "fire_safety.hazards.escalate"}
FIRE_INSPECT = FIRE_REVIEW | {"fire_safety.inspections.write", "fire_safety.hazards.rectify"}
FIRE = FIRE_READ | FIRE_INSPECT

# Sensing: the centre watches and handles alarms, stations and grid workers handle their community's.
SENSING_WATCH = {"sensing.devices.read", "sensing.alarms.read", "sensing.alarms.handle"}
SENSING_ADMIN = SENSING_WATCH | {"sensing.devices.write", "sensing.rules.write", "sensing.readings.write"}

# Crowd zones (domains/crowd): the centre sets zones up and watches them; streets and communities watch theirs.
CROWD_READ = {"crowd.read"}
CROWD_ADMIN = CROWD_READ | {"crowd.zones.write", "crowd.what_if.run"}

# Emergency linkage (apps/linkage): the centre starts, escalates and stands down plans; departments (and
# street offices) work their tasks; an admin edits the plans.
LINKAGE_MANAGE = {"linkage.read", "linkage.incidents.manage"}
LINKAGE_WORK = {"linkage.read", "linkage.tasks.work"}
LINKAGE = LINKAGE_MANAGE | LINKAGE_WORK | {"linkage.plans.write"}

# The data hub (domains/datahub): every member of staff browses the catalog; departments ask for data and read
# what they were granted; data stewards publish, decide their department's requests and watch usage.
DATAHUB_READ = {"datahub.read"}
DATAHUB_USE = DATAHUB_READ | {"datahub.requests.submit", "datahub.data.read"}
DATAHUB_STEWARD = DATAHUB_USE | {"datahub.datasets.publish", "datahub.requests.decide", "datahub.usage.read"}

# Decision support (apps/insight): KPIs, hotspots, forecasts and the daily brief; the centre and data stewards
# may also refresh the pre-aggregates at once.
INSIGHT_READ = {"insight.read"}
INSIGHT = INSIGHT_READ | {"insight.aggregates.refresh"}

ADMIN_ONLY = {"registry.departments.write", "core.users.manage", "core.api_keys.manage", "core.audit.read",
              "core.subscriptions.write"}
GRID_WRITE = {"registry.buildings.write", "registry.venues.write", "registry.units.write", "registry.residents.write"}

ROLES: dict[str, Role] = {
    r.code: r
    for r in [
        Role("admin", "系统管理员", "Administrator", "all",
             frozenset(READ | REGISTRY_WRITE | PEOPLE | PII | CASES_READ | CASES_ADMIN | ADMIN_ONLY | FIRE | SENSING_ADMIN
                       | CROWD_ADMIN | LINKAGE | DATAHUB_STEWARD | INSIGHT)),
        Role("operator", "指挥中心值班员", "Command-centre operator", "all",
             frozenset(READ | PEOPLE | CASES_READ | FIRE_READ | FIRE_REVIEW | SENSING_WATCH | CROWD_ADMIN
                       | LINKAGE_MANAGE | DATAHUB_USE | INSIGHT
                       | {"registry.facilities.write", "core.audit.read", "cases.cases.manage"})),
        Role("dept_handler", "部门处置员", "Department handler", "department",
             frozenset(READ | CASES_READ | LINKAGE_WORK | DATAHUB_USE
                       | {"registry.facilities.write", "cases.cases.handle", "sensing.alarms.read"})),
        Role("street_officer", "街道工作人员", "Street officer", "street",
             frozenset(READ | (REGISTRY_WRITE - {"registry.areas.write"}) | PEOPLE | PII | CASES_READ
                       | FIRE_READ | FIRE_REVIEW | SENSING_WATCH | CROWD_READ | LINKAGE_WORK | DATAHUB_USE | INSIGHT_READ)),
        Role("grid_worker", "网格员", "Grid worker", "community",
             frozenset(READ | GRID_WRITE | PEOPLE | PII | CASES_READ | FIRE_READ | FIRE_INSPECT | SENSING_WATCH
                       | CROWD_READ | DATAHUB_READ)),
        Role("verifier", "品质核查员", "Verifier", "all", frozenset(READ | CASES_READ | DATAHUB_READ | {"cases.cases.verify"})),
        Role("data_steward", "数据管理员", "Data steward", "all",
             frozenset(READ | DATAHUB_STEWARD | INSIGHT | {"core.audit.read", "cases.cases.read"})),
    ]
}

# What an API key may be granted; a key never sees protected fields or residents.
API_KEY_SCOPES: dict[str, frozenset[str]] = {
    "registry:read": frozenset(READ),
    "devices:write": frozenset({"sensing.readings.write"}),
    "open311": frozenset({"cases.requests.write", "cases.requests.read"}),
    "cases:read": frozenset({"cases.cases.read"}),
    # A consumer system's key for its data-hub grants: it reads only the grant it was issued for.
    "datahub:data": frozenset({"datahub.data.read"}),
}
