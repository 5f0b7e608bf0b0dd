"""Event types the registry emits, ``registry.<noun>.<verb>``; must equal the manifest's list."""

AREA_CREATED = "registry.area.created"
AREA_UPDATED = "registry.area.updated"
DEPARTMENT_CREATED = "registry.department.created"
DEPARTMENT_UPDATED = "registry.department.updated"
BUILDING_CREATED = "registry.building.created"
BUILDING_UPDATED = "registry.building.updated"
UNIT_CREATED = "registry.unit.created"
UNIT_UPDATED = "registry.unit.updated"
RESIDENT_CREATED = "registry.resident.created"
RESIDENT_UPDATED = "registry.resident.updated"
VENUE_CREATED = "registry.venue.created"
VENUE_UPDATED = "registry.venue.updated"
LICENCE_CREATED = "registry.licence.created"
FACILITY_CREATED = "registry.facility.created"
FACILITY_UPDATED = "registry.facility.updated"
DISTRICT_SEEDED = "registry.district.seeded"

EVENT_TYPES = frozenset(
    {
        AREA_CREATED,
        AREA_UPDATED,
        DEPARTMENT_CREATED,
        DEPARTMENT_UPDATED,
        BUILDING_CREATED,
        BUILDING_UPDATED,
        UNIT_CREATED,
        UNIT_UPDATED,
        RESIDENT_CREATED,
        RESIDENT_UPDATED,
        VENUE_CREATED,
        VENUE_UPDATED,
        LICENCE_CREATED,
        FACILITY_CREATED,
        FACILITY_UPDATED,
        DISTRICT_SEEDED,
    }
)
