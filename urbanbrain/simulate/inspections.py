"""A simulated season of fire-safety inspections in an urban village (城中村消防检查): grid workers inspect
its buildings and venues and record the hazards they find; owners rectify, most on time, some late, a few
not until the case is filed; workers report the rectifications and re-inspect; the overdue sweep flags
what ran past its deadline and escalates the major hazards, and workers escalate the stubborn ones.

Used by ``urbanbrain simulate inspections`` and ``make demo``, so that the fire-safety statistics and the
fire map show a season's work on a fresh install. Every step goes through the app's actions
(``do_record_inspection``, ``do_report_rectification``, ``do_reinspect_hazard``, ``do_escalate_hazard``,
``overdue_sweep``) with the permissions and scope of the role that takes it; only the people are simulated.

Days are the district's local days and the grid works every day, so a season that starts at a local
midnight (:func:`season_start`) gives the same figures for the same seed whatever the date.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

from urbanbrain.apps.fire_safety import (
    actions,
    fire_map,  # noqa: F401  (registers fire_safety.village_not_found)
    queries,
)
from urbanbrain.apps.fire_safety.schemas import HazardCreate, InspectionCreate
from urbanbrain.core.auth.principal import SYSTEM, Principal
from urbanbrain.core.auth.roles import ROLES
from urbanbrain.core.clock import SimulatedClock
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.registry import queries as registry
from urbanbrain.simulate.agenda import Agenda

SHUIWEI = "440304004028-V01"  # 水围村: 318 buildings and 660 venues in the demo district
SEASON_DAYS = 91
WORKERS_PER_COMMUNITY = 8  # each looks after a run of buildings and the venues in them (楼栋包干)
BUILDING_EVERY = (18, 24)  # days between routine inspections of a building
VENUE_EVERY = (25, 35)  # ... of a venue
FIND_CHANCE = {"building": 0.24, "venue": 0.2}  # of finding anything, for an owner of ordinary care

# What grid workers find, with the words they write down. Weights per kind of place; a venue's category
# shifts them (gas in restaurants, people living in shops and workshops).
HAZARDS: dict[str, tuple[str, ...]] = {
    "ebike_charging": ("楼道内电动自行车飞线充电", "一楼门厅停放电动自行车并充电", "电动车电池在室内充电"),
    "private_wiring": ("电表箱附近私拉乱接电线", "出租屋内多个插排串接", "临时电线缠绕在金属防盗网上"),
    "blocked_escape": ("楼梯间堆放杂物", "消防通道被铁门锁闭", "巷道被货物和摊位占用"),
    "extinguisher": ("灭火器过期未更换", "未配置灭火器", "灭火器压力不足"),
    "emergency_lighting": ("应急照明灯不亮", "安全出口指示灯损坏", "疏散指示标志被遮挡"),
    "living_in_workplace": ("商铺阁楼住人", "仓库内设置床铺住人", "店铺后间住人且与经营区未分隔"),
    "gas_safety": ("液化气瓶放置在厨房明火旁", "燃气软管老化开裂", "使用不合格减压阀"),
    "other": ("天台违规搭建可燃材料棚", "楼内堆放大量纸箱等可燃物", "防火门常开且闭门器损坏"),
}
BUILDING_WEIGHTS = {"ebike_charging": 30, "private_wiring": 22, "blocked_escape": 16, "extinguisher": 12,
                    "emergency_lighting": 12, "other": 8}  # fmt: skip
VENUE_WEIGHTS = {"extinguisher": 22, "private_wiring": 16, "living_in_workplace": 14, "emergency_lighting": 12,
                 "blocked_escape": 10, "gas_safety": 8, "ebike_charging": 6, "other": 4}  # fmt: skip
GAS_CATEGORIES = {"餐饮", "旅馆", "公寓"}
MAJOR_CHANCE = {"blocked_escape": 0.12, "private_wiring": 0.08, "gas_safety": 0.12, "living_in_workplace": 0.15,
                "ebike_charging": 0.04, "emergency_lighting": 0.02, "other": 0.03}  # fmt: skip
RECTIFIED = {
    "ebike_charging": "电动车已移出，引导至集中充电点",
    "private_wiring": "已请电工重新敷设线路",
    "blocked_escape": "杂物已清理，通道畅通",
    "extinguisher": "已配置合格灭火器",
    "emergency_lighting": "应急照明和指示标志已修复",
    "living_in_workplace": "住人已清退，床铺已拆除",
    "gas_safety": "已更换合格软管和减压阀",
    "other": "已整改",
}
NOT_FIXED = "复查发现整改不彻底 / Not fully fixed on re-inspection"
STUBBORN = "业主逾期拒不整改，提请消防部门处理 / The owner let the deadline pass and will not rectify"
MAJOR_AT_ONCE = "重大隐患，提请消防部门介入 / A major hazard: the fire brigade is asked to step in"


@dataclass
class Outcome:
    inspections: int = 0  # routine
    hazards: int = 0
    major: int = 0
    rectified: int = 0
    re_inspections: int = 0
    closed: int = 0
    failed: int = 0
    overdue: int = 0
    escalated: int = 0
    refused: int = 0  # actions the app refused: none expected

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Place:
    kind: Literal["building", "venue"]
    code: str
    street_code: str
    category: str | None
    care: float  # how likely this owner is to let things slide: 0.5 careful, 1 ordinary, 2.2 careless
    worker: Principal


def _person(role: str, name: str, area_code: str) -> Principal:
    r = ROLES[role]
    return Principal(kind="simulated", id=None, name=name, role=r.code, scope=r.scope,
                     permissions=r.permissions, area_code=area_code)  # fmt: skip


def season_start(now: datetime, days: int = SEASON_DAYS, utc_offset_hours: int = 8) -> datetime:
    """The local midnight ``days`` days before the last one: a season of whole days that ends by ``now``."""
    tz = timezone(timedelta(hours=utc_offset_hours))
    midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - timedelta(days=days)).astimezone(UTC)


class SeasonReplay:
    """Runs the season on the platform's simulated clock, from where it stands for ``days`` days."""

    def __init__(self, platform: Platform, *, village: str = SHUIWEI, days: int = SEASON_DAYS,
                 seed: int = 1) -> None:  # fmt: skip
        if not isinstance(platform.clock, SimulatedClock):
            raise ValueError("the season is replayed on a simulated clock")
        self.platform, self.days = platform, days
        self.clock: SimulatedClock = platform.clock
        self.offset = platform.settings.utc_offset_hours
        self.rng = random.Random(seed)
        self.agenda = Agenda(self.clock)
        self.outcome = Outcome()
        self.start = self.clock.now()
        self.end = self.start + timedelta(days=days)
        tz = timezone(timedelta(hours=self.offset))
        self.day0 = self.start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        self.places = self._places(village)
        self.officers = {p.street_code: _person("street_officer", f"street-officer-{p.street_code}",
                                                p.street_code) for p in self.places}  # fmt: skip

    # --- the village, as the registry shows it ---------------------------------------------------------

    def _places(self, village: str) -> list[_Place]:
        with self.platform.db.session() as session:
            area = registry.get_area(session, village)
            buildings = registry.buildings_in_village(session, village)
            if not buildings:
                raise UrbanBrainError("fire_safety.village_not_found", code=village)
            where = registry.building_places(session, [b["code"] for b in buildings])
            venues = session.scalars(
                registry.located_stmt(session, registry.LAYERS["venues"], SYSTEM, area=area)
            ).all()
            venue_rows = [(v.code, v.category, v.status) for v in venues]
        by_community: dict[str, list[str]] = {}
        for b in buildings:
            by_community.setdefault(where[b["code"]]["community_code"], []).append(b["code"])
        worker_of: dict[str, Principal] = {}
        for community, codes in sorted(by_community.items()):
            for i, code in enumerate(sorted(codes)):
                k = i * WORKERS_PER_COMMUNITY // len(codes) + 1
                worker_of[code] = _person("grid_worker", f"grid-worker-{community}-{k:02d}", community)
        care = (0.5, 1.0, 2.2)
        places = []
        for b in buildings:
            w = where[b["code"]]
            places.append(_Place("building", b["code"], w["street_code"], None,
                                 self.rng.choices(care, (45, 40, 15))[0], worker_of[b["code"]]))  # fmt: skip
        for code, category, status in sorted(venue_rows):
            building = code.rsplit("-S", 1)[0]  # a venue's code extends its building's
            if status == "closed" or building not in worker_of:
                continue
            w = where[building]
            places.append(_Place("venue", code, w["street_code"], category,
                                 self.rng.choices(care, (40, 40, 20))[0], worker_of[building]))  # fmt: skip
        return places

    # --- scheduling ------------------------------------------------------------------------------------

    def _at(self, when: datetime, act: Callable[[], None]) -> None:
        if when > self.end:
            return  # after the season: it has not happened yet
        self.agenda.at(max(when, self.start), act)

    def _local(self, day: int, hour: float) -> datetime:
        return (self.day0 + timedelta(days=day, hours=hour)).astimezone(UTC)

    def _day(self, at: datetime) -> int:
        return (at - self.day0).days

    def _work_hour(self) -> float:
        return self.rng.uniform(9.0, 17.5)

    def run(self) -> Outcome:
        for place in self.places:
            every = BUILDING_EVERY if place.kind == "building" else VENUE_EVERY
            day = self.rng.randrange(every[1])  # the first round is spread over the first cycle
            while self._local(day, 0) < self.end:
                self._at(self._local(day, self._work_hour()), functools.partial(self._inspect, place))
                day += self.rng.randint(*every)
        # the server's overdue sweep, at each local midnight: deadlines fall there
        for day in range(1, self.days + 2):
            self._at(self._local(day, 0), self._sweep)
        self.agenda.run(self.end, inclusive=True)  # _at keeps nothing after the end
        return self.outcome

    # --- the people ------------------------------------------------------------------------------------

    def _findings(self, place: _Place) -> list[HazardCreate]:
        if self.rng.random() >= min(0.9, FIND_CHANCE[place.kind] * place.care):
            return []
        weights = dict(BUILDING_WEIGHTS if place.kind == "building" else VENUE_WEIGHTS)
        if place.category in GAS_CATEGORIES:
            weights["gas_safety"] = 30
        n = 1 + (self.rng.random() < 0.3) + (self.rng.random() < 0.08)
        kinds = self.rng.sample(list(weights), n, counts=list(weights.values()))
        return [
            HazardCreate(
                type_code=kind,
                description=self.rng.choice(HAZARDS[kind]),
                severity="major" if self.rng.random() < MAJOR_CHANCE.get(kind, 0.0) else "general",
            )
            for kind in dict.fromkeys(kinds)
        ]

    def _inspect(self, place: _Place) -> None:
        """A routine inspection; each hazard found gets its owner's response scheduled."""
        data = InspectionCreate(target_kind=place.kind, target_code=place.code, hazards=self._findings(place))
        now = self.clock.now()
        try:
            with self.platform.db.session() as session:
                inspection = actions.do_record_inspection(session, self.platform, place.worker, data)
                found = queries.inspection_public(session, [inspection], now, self.offset)[0]["hazards"]
        except UrbanBrainError:
            self.outcome.refused += 1
            return
        self.outcome.inspections += 1
        for h in found:
            self.outcome.hazards += 1
            if h["severity"] == "major":
                self.outcome.major += 1
                if self.rng.random() < 0.5:  # the street office does not wait for the deadline
                    later = now + timedelta(hours=self.rng.uniform(1, 4))
                    self._at(
                        later, functools.partial(self._escalate, place, h["code"], h["type"]["code"], True)
                    )
            self._owner(place, h["code"], h["type"]["code"], h["deadline"], first=True)

    def _owner(self, place: _Place, code: str, type_code: str, deadline: datetime, *, first: bool) -> None:
        """How the owner responds to a rectification order: on time, late, or (first time round) not until
        the case is filed."""
        today, last_day = self._day(self.clock.now()), self._day(deadline) - 1
        draw = self.rng.random()
        stubborn, late = (0.04 * place.care if first else 0.0), 0.12 * place.care
        if draw < stubborn:
            when = self._local(last_day + 1 + self.rng.randint(2, 5), self._work_hour())
            self._at(when, functools.partial(self._escalate, place, code, type_code, False))
            return
        if draw < stubborn + late:
            day = last_day + self.rng.randint(1, 6)
        else:
            day = today + self.rng.randint(0, max(0, last_day - today))
        when = self._local(day, self.rng.uniform(10.0, 20.0))
        if when <= self.clock.now():  # the same day: a few hours after the order
            when = min(
                self.clock.now() + timedelta(hours=self.rng.uniform(1, 4)), deadline - timedelta(minutes=5)
            )
        self._at(when, functools.partial(self._rectify, place, code, type_code))

    def _hazard_act(self, who: Principal, code: str, act: Callable[..., Any], *args: Any) -> datetime | None:
        """One of the app's hazard actions, as ``who``: the hazard's deadline after it, or None if refused."""
        try:
            with self.platform.db.session() as session:
                hazard = queries.get_hazard(session, who, code)
                act(session, self.platform, who, hazard, *args)
                return hazard.deadline
        except UrbanBrainError:
            self.outcome.refused += 1
            return None

    def _rectify(self, place: _Place, code: str, type_code: str) -> None:
        note = RECTIFIED.get(type_code, RECTIFIED["other"])
        if self._hazard_act(place.worker, code, actions.do_report_rectification, note) is None:
            return
        self.outcome.rectified += 1
        when = self._local(self._day(self.clock.now()) + self.rng.randint(1, 3), self._work_hour())
        self._at(when, functools.partial(self._reinspect, place, code, type_code))

    def _reinspect(self, place: _Place, code: str, type_code: str) -> None:
        who = place.worker if self.rng.random() < 0.9 else self.officers[place.street_code]
        passed = self.rng.random() >= min(0.5, 0.12 * place.care)
        note = "复查合格 / Fixed" if passed else NOT_FIXED
        deadline = self._hazard_act(who, code, actions.do_reinspect_hazard, passed, note)
        if deadline is None:
            return
        self.outcome.re_inspections += 1
        if passed:
            self.outcome.closed += 1
            return
        self.outcome.failed += 1
        self._owner(place, code, type_code, deadline, first=False)

    def _escalate(self, place: _Place, code: str, type_code: str, major: bool) -> None:
        """A major hazard escalated at once by the street officer, or a stubborn owner's by the grid worker
        (unless the sweep filed it already), after which the owner rectifies within days."""
        who = self.officers[place.street_code] if major else place.worker
        with self.platform.db.session() as session:
            filed = queries.get_hazard(session, who, code).case_number is not None
        note = MAJOR_AT_ONCE if major else STUBBORN
        if not filed:
            if self._hazard_act(who, code, actions.do_escalate_hazard, note) is None:
                return
            self.outcome.escalated += 1
        if not major:
            when = self._local(self._day(self.clock.now()) + self.rng.randint(2, 10), self._work_hour())
            self._at(when, functools.partial(self._rectify, place, code, type_code))

    def _sweep(self) -> None:
        with self.platform.db.session() as session:
            swept = actions.overdue_sweep(session, self.platform)
        self.outcome.overdue += swept["overdue"]
        self.outcome.escalated += swept["escalated"]


def replay(platform: Platform, *, village: str = SHUIWEI, days: int = SEASON_DAYS, seed: int = 1) -> Outcome:
    """A season of inspections in ``village`` from the platform's (simulated) clock on, ``days`` long."""
    return SeasonReplay(platform, village=village, days=days, seed=seed).run()


def already_replayed(platform: Platform) -> bool:
    """Whether any inspection is recorded (the demo replays the season once)."""
    with platform.db.session() as session:
        return session.scalar(queries.inspections_stmt(SYSTEM).limit(1)) is not None
