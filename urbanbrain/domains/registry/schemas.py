"""Registry request and response shapes: ``XCreate`` / ``XUpdate`` / ``XPublic`` for each record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BuildingUse = Literal["residential", "commercial", "mixed", "office", "industrial", "public"]
VenueKind = Literal["small_shop", "small_hotel", "small_entertainment", "merchant"]
FacilityKind = Literal[
    "street_light",
    "manhole_cover",
    "rubbish_bin",
    "newsstand",
    "fire_hydrant",
    "guard_rail",
    "bus_shelter",
    "traffic_signal",
    "bench",
    "public_toilet",
    "camera_pole",
]
# The public QR code of a facility reads FT-<prefix>-<6 digits>; one table for the API and the demo seed.
FACILITY_CODE_PREFIX: dict[str, str] = {
    "street_light": "SL",
    "manhole_cover": "MC",
    "rubbish_bin": "RB",
    "newsstand": "NS",
    "fire_hydrant": "FH",
    "guard_rail": "GR",
    "bus_shelter": "BS",
    "traffic_signal": "TS",
    "bench": "BE",
    "public_toilet": "PT",
    "camera_pole": "CP",
}
# What each kind is called, for the QR landing page and the labels (zh-CN, en).
FACILITY_KIND_NAMES: dict[str, tuple[str, str]] = {
    "street_light": ("路灯", "Street light"),
    "manhole_cover": ("井盖", "Manhole cover"),
    "rubbish_bin": ("垃圾桶", "Rubbish bin"),
    "newsstand": ("报刊亭", "Newsstand"),
    "fire_hydrant": ("消火栓", "Fire hydrant"),
    "guard_rail": ("护栏", "Guard rail"),
    "bus_shelter": ("公交候车亭", "Bus shelter"),
    "traffic_signal": ("交通信号灯", "Traffic signal"),
    "bench": ("座椅", "Bench"),
    "public_toilet": ("公共厕所", "Public toilet"),
    "camera_pole": ("监控杆", "Camera pole"),
}
AreaLevel = Literal["district", "street", "community", "grid_cell", "village"]
DepartmentKind = Literal["functional", "street_office", "community_station"]
LicenceKind = Literal["business", "food", "fire_safety", "special_trade", "entertainment"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Located(_Strict):
    lon: float = Field(description="Longitude, WGS84-like degrees (the demo data may be GCJ-02).")
    lat: float = Field(description="Latitude.")


class Location(BaseModel):
    street_code: str | None
    community_code: str | None
    grid_code: str | None


# --- areas -------------------------------------------------------------------------------------------


class AreaCreate(_Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    name_en: str = ""
    level: AreaLevel
    parent_code: str | None = None
    approximate: bool = False
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, lon/lat.")
    properties: dict[str, Any] = Field(default_factory=dict)


class AreaUpdate(_Strict):
    name: str | None = None
    name_en: str | None = None
    approximate: bool | None = None
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any] | None = None
    version: int | None = Field(default=None, description="The version you read; a stale one is refused.")


class AreaPublic(BaseModel):
    id: int
    code: str
    name: str
    name_en: str
    level: str
    parent_code: str | None
    approximate: bool
    area_km2: float
    bbox: list[float]
    properties: dict[str, Any]
    version: int


# --- departments -------------------------------------------------------------------------------------


class DepartmentCreate(_Strict):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    kind: DepartmentKind
    area_code: str | None = None
    phone: str | None = None


class DepartmentUpdate(_Strict):
    name: str | None = None
    name_en: str | None = None
    phone: str | None = None
    active: bool | None = None
    version: int | None = None


class DepartmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    name_en: str
    kind: str
    area_code: str | None
    phone: str | None
    active: bool
    version: int


# --- buildings ---------------------------------------------------------------------------------------


class BuildingCreate(Located):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=300)
    footprint: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon.")
    floors: int = Field(ge=1, le=200)
    use: BuildingUse
    structure: str | None = None
    built_year: int | None = Field(default=None, ge=1800, le=2100)
    village_code: str | None = None
    owner_name: str | None = None
    owner_phone: str | None = Field(default=None, max_length=32)
    properties: dict[str, Any] = Field(default_factory=dict)


class BuildingUpdate(_Strict):
    name: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    footprint: dict[str, Any] | None = None
    floors: int | None = Field(default=None, ge=1, le=200)
    use: BuildingUse | None = None
    structure: str | None = None
    built_year: int | None = Field(default=None, ge=1800, le=2100)
    owner_name: str | None = None
    owner_phone: str | None = Field(default=None, max_length=32)
    properties: dict[str, Any] | None = None
    version: int | None = None


class BuildingPublic(Location):
    id: int
    code: str
    name: str
    address: str
    lon: float
    lat: float
    floors: int
    use: str
    structure: str | None
    built_year: int | None
    village_code: str | None
    owner_name: str | None
    owner_phone: str | None = Field(description="Masked unless you may read protected fields.")
    properties: dict[str, Any]
    updated_at: datetime
    version: int


# --- units and residents -----------------------------------------------------------------------------


class UnitCreate(_Strict):
    code: str = Field(min_length=1, max_length=48)
    building_code: str
    floor: int = Field(ge=-5, le=200)
    number: str = Field(min_length=1, max_length=16)
    kind: Literal["household", "shop", "office", "vacant"]
    area_m2: float | None = Field(default=None, gt=0, le=100000)
    tenure: Literal["owner", "rented", "collective"] | None = None


class UnitUpdate(_Strict):
    kind: Literal["household", "shop", "office", "vacant"] | None = None
    area_m2: float | None = Field(default=None, gt=0, le=100000)
    tenure: Literal["owner", "rented", "collective"] | None = None
    version: int | None = None


class UnitPublic(BaseModel):
    id: int
    code: str
    building_code: str
    floor: int
    number: str
    kind: str
    area_m2: float | None
    tenure: str | None
    residents: int
    version: int


class ResidentCreate(_Strict):
    unit_code: str
    name: str = Field(min_length=1, max_length=100)
    gender: Literal["M", "F"] | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    relation: Literal["head", "member", "tenant"]
    id_number: str | None = Field(default=None, pattern=r"^[0-9]{17}[0-9Xx]$")
    phone: str | None = Field(default=None, pattern=r"^[0-9+\- ]{5,20}$")
    moved_in: date | None = None


class ResidentUpdate(_Strict):
    unit_code: str | None = None
    name: str | None = None
    relation: Literal["head", "member", "tenant"] | None = None
    phone: str | None = Field(default=None, pattern=r"^[0-9+\- ]{5,20}$")
    version: int | None = None


class ResidentPublic(BaseModel):
    id: int
    unit_code: str
    name: str
    gender: str | None
    birth_year: int | None
    relation: str
    id_number: str | None = Field(description="Masked unless you may read protected fields.")
    phone: str | None
    moved_in: date | None
    version: int


# --- venues and licences -----------------------------------------------------------------------------


class LicenceCreate(_Strict):
    kind: LicenceKind
    number: str = Field(min_length=1, max_length=64)
    issued_on: date
    expires_on: date | None = None
    issuer_department_code: str | None = None


class LicencePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    number: str
    issued_on: date
    expires_on: date | None
    issuer_department_code: str | None
    status: str


class VenueCreate(Located):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    kind: VenueKind
    category: str = Field(min_length=1, max_length=64)
    building_code: str | None = None
    address: str = Field(min_length=1, max_length=300)
    operator_name: str | None = None
    operator_phone: str | None = Field(default=None, max_length=32)
    employees: int | None = Field(default=None, ge=0)
    floor_area_m2: float | None = Field(default=None, gt=0)
    licences: list[LicenceCreate] = Field(default_factory=list)


class VenueUpdate(_Strict):
    name: str | None = None
    category: str | None = None
    address: str | None = None
    operator_name: str | None = None
    operator_phone: str | None = Field(default=None, max_length=32)
    employees: int | None = Field(default=None, ge=0)
    floor_area_m2: float | None = Field(default=None, gt=0)
    status: Literal["open", "closed", "suspended"] | None = None
    version: int | None = None


class VenuePublic(Location):
    id: int
    code: str
    name: str
    kind: str
    category: str
    building_code: str | None
    address: str
    lon: float
    lat: float
    operator_name: str | None
    operator_phone: str | None
    employees: int | None
    floor_area_m2: float | None
    status: str
    licences: list[LicencePublic]
    version: int


# --- facilities --------------------------------------------------------------------------------------


class FacilityCreate(Located):
    code: str | None = Field(default=None, max_length=40, description="Public QR code; generated if omitted.")
    kind: FacilityKind
    name: str = Field(min_length=1, max_length=200)
    owner_department_code: str
    responsible_person: str = Field(min_length=1, max_length=100)
    responsible_phone: str | None = None
    installed_on: date | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class FacilityUpdate(_Strict):
    name: str | None = None
    lon: float | None = None
    lat: float | None = None
    owner_department_code: str | None = None
    responsible_person: str | None = None
    responsible_phone: str | None = None
    installed_on: date | None = None
    settings: dict[str, Any] | None = None
    status: Literal["in_service", "damaged", "removed"] | None = None
    version: int | None = None


class FacilityPublic(Location):
    id: int
    code: str
    kind: str
    name: str
    lon: float
    lat: float
    owner_department_code: str
    owner_department_name: str
    responsible_person: str
    responsible_phone: str | None
    installed_on: date | None
    settings: dict[str, Any]
    status: str
    version: int


# --- list filters (query parameters of the list routes) --------------------------------------------------

Search = Field(default=None, max_length=100, description="Part of the name or the code.")


class AreaFilters(BaseModel):
    level: AreaLevel | None = None
    parent_code: str | None = None


class DepartmentFilters(BaseModel):
    kind: DepartmentKind | None = None
    area_code: str | None = None


class PlaceFilters(BaseModel):
    street_code: str | None = None
    community_code: str | None = None
    grid_code: str | None = None
    q: str | None = Search


class BuildingFilters(PlaceFilters):
    village_code: str | None = None
    use: BuildingUse | None = None


class UnitFilters(BaseModel):
    building_code: str | None = None
    kind: Literal["household", "shop", "office", "vacant"] | None = None


class ResidentFilters(BaseModel):
    unit_code: str | None = None
    building_code: str | None = None
    id_number: str | None = Field(default=None, description="Exact ID number (needs registry.pii.read).")


class VenueFilters(PlaceFilters):
    kind: VenueKind | None = None
    category: str | None = None
    status: Literal["open", "closed", "suspended"] | None = None


class FacilityFilters(PlaceFilters):
    kind: FacilityKind | None = None
    owner_department_code: str | None = None
    status: Literal["in_service", "damaged", "removed"] | None = None


# --- map layers (GeoJSON) and counts --------------------------------------------------------------------


class Feature(BaseModel):
    """A GeoJSON Feature: a building's footprint or a point, an area's outline; the record as properties."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: dict[str, Any] = Field(description="GeoJSON geometry, lon/lat.")
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection, with OGC-API-Features-style counts where it is paged."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberMatched: int | None = None  # noqa: N815 - the OGC API's name
    numberReturned: int  # noqa: N815
    page: int | None = None
    page_size: int | None = None


class RegistrySummary(BaseModel):
    """Counts by area level, department kind, venue and facility kind, and totals of the rest."""

    areas: dict[str, int]
    departments: dict[str, int]
    buildings: int
    units: int
    residents: int
    licences: int
    venues: dict[str, int]
    facilities: dict[str, int]


class LocatePublic(Location):
    lon: float
    lat: float
    street_name: str | None
    community_name: str | None


# --- bulk load ----------------------------------------------------------------------------------------

Row = dict[str, Any]


@dataclass
class DistrictLoad:
    """What :func:`do_load_district` writes. Areas carry a shapely ``geometry``; records refer to each other by
    code (``building_code``, ``unit_code``, ``venue_code``, ``owner_department_code``); phones and ID numbers
    are plain and get sealed on the way in."""

    areas: list[Row]
    departments: list[Row]
    buildings: list[Row] = field(default_factory=list)
    units: list[Row] = field(default_factory=list)
    residents: list[Row] = field(default_factory=list)
    venues: list[Row] = field(default_factory=list)
    licences: list[Row] = field(default_factory=list)
    facilities: list[Row] = field(default_factory=list)
    note: dict[str, Any] = field(default_factory=dict)  # recorded in the audit row (scale, seed, source)


class FacilityLanding(BaseModel):
    """What anyone who scans a facility's QR label sees: no login, the phone masked."""

    code: str
    kind: str
    kind_name: dict[str, str] = Field(description="The kind in zh-CN and en.")
    name: str
    status: str
    owner_department_name: str
    responsible_person: str
    responsible_phone: str | None = Field(description="Masked: the first three and last four digits.")
    settings: dict[str, Any]
    installed_on: date | None
    lon: float
    lat: float
    street_name: str | None
    community_name: str | None
