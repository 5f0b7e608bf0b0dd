"""Partition groups: devices whose readings are judged together elsewhere (a crowd zone's inputs) share a
partition when they have no building, so that scaled out one worker sees them all. The key is the building,
else the group, else the device; the doors' router and the workers' ownership read it the same way."""

from __future__ import annotations

import pytest

from tests.conftest import Platform
from tests.domains.sensing.conftest import shuiwei_building
from urbanbrain.apps.fire_safety.devices import do_install_fire_monitoring
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.sensing.actions import do_group_devices, do_provision_device, get_device
from urbanbrain.domains.sensing.ingest.catalog import Catalog
from urbanbrain.domains.sensing.ingest.partition import Owner, partition_key, partition_of
from urbanbrain.domains.sensing.schemas import DeviceCreate

PARTITIONS = 16
GROUP = "crowd:CC-PLAZA"


def test_a_readings_partition_key_is_its_building_then_its_group_then_its_device():
    assert partition_key("SMK-1", "44030400100100100001", GROUP) == "44030400100100100001"
    assert partition_key("SMK-1", None, GROUP) == GROUP
    assert partition_key("SMK-1", None, None) == "SMK-1"
    assert partition_key("SMK-1", "", "") == "SMK-1"


def _outside_the_group(count: int) -> list[str]:
    """Device ids whose own partitions all differ from the group's."""
    ids = (f"CC-{n}" for n in range(1000))
    return [d for d in ids if partition_of(d, PARTITIONS) != partition_of(GROUP, PARTITIONS)][:count]


def _catalog(platform: Platform, owned: set[int]) -> Catalog:
    catalog = Catalog(Owner(frozenset(owned), PARTITIONS))
    with platform.db.sessionmaker() as session:
        catalog.reload(session, platform, force=True)
    return catalog


@pytest.fixture
def devices(seeded: Platform) -> tuple[Platform, list[str], str]:
    """Three smoke detectors on the plaza without a building, and one in a Shuiwei building whose partition
    is not the group's."""
    building, _ = shuiwei_building(seeded)
    assert partition_of(building, PARTITIONS) != partition_of(GROUP, PARTITIONS)
    loose = _outside_the_group(3)
    with seeded.db.session() as session:
        do_install_fire_monitoring(session, seeded, SYSTEM)
        for device in loose:
            on_plaza = DeviceCreate(device_id=device, type_code="smoke_detector", lon=114.0595, lat=22.5430)
            do_provision_device(session, seeded, SYSTEM, on_plaza)
        inside = DeviceCreate(device_id="SMK-B", type_code="smoke_detector", building_code=building)
        do_provision_device(session, seeded, SYSTEM, inside)
    return seeded, loose, building


def test_a_worker_takes_a_grouped_device_iff_it_owns_the_groups_partition(devices):
    platform, loose, building = devices
    grouped, alone = loose[:2], loose[2]
    with platform.db.session() as session:
        do_group_devices(session, platform, SYSTEM, GROUP, [*grouped, "SMK-B"])
    of_group = _catalog(platform, {partition_of(GROUP, PARTITIONS)})
    assert set(of_group.active) == set(grouped)  # not the building's device, not the ungrouped one
    assert {of_group.partition_key(d) for d in grouped} == {GROUP}
    own_partitions = _catalog(platform, {partition_of(d, PARTITIONS) for d in loose})
    assert set(own_partitions.active) == {alone}
    of_building = _catalog(platform, {partition_of(building, PARTITIONS)})
    assert "SMK-B" in of_building.active and of_building.partition_key("SMK-B") == building


def test_grouping_sets_exactly_the_listed_devices_and_every_catalog_notices(devices):
    platform, loose, _ = devices
    router = Catalog()  # a door's catalog: every device
    with platform.db.sessionmaker() as session:
        router.reload(session, platform, force=True)
    assert router.partition_key(loose[0]) == loose[0]
    with platform.db.session() as session:
        had = do_group_devices(session, platform, SYSTEM, GROUP, loose[:2])
        versions = {d: get_device(session, d).version for d in loose}
    assert had == {loose[0]: None, loose[1]: None}
    with platform.db.sessionmaker() as session:
        changed, _ = router.reload(session, platform, force=False)
    assert changed and router.partition_key(loose[0]) == GROUP and router.partition_key(loose[2]) == loose[2]

    with platform.db.session() as session:  # the same instant: the versions still tell the change
        had = do_group_devices(session, platform, SYSTEM, GROUP, loose[1:])
        assert had == {loose[0]: GROUP, loose[2]: None}  # loose[1] kept its group: not written again
        assert get_device(session, loose[1]).version == versions[loose[1]]
        assert get_device(session, loose[0]).partition_group is None
    with platform.db.sessionmaker() as session:
        changed, _ = router.reload(session, platform, force=False)
    assert changed and router.partition_key(loose[0]) == loose[0] and router.partition_key(loose[2]) == GROUP

    with platform.db.session() as session:
        for group, ids, code in (
            ("a b", loose, "sensing.bad_group"),
            (GROUP, ["NOPE"], "sensing.device_not_found"),
        ):
            with pytest.raises(UrbanBrainError) as err:
                do_group_devices(session, platform, SYSTEM, group, ids)
            assert err.value.code == code


def test_an_admin_sets_a_devices_group_by_hand_and_its_building_still_comes_first(site):
    r = site.client.patch(
        "/api/v1/sensing/devices/SMK-1", json={"partition_group": "pump-room"}, headers=site.admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["partition_group"] == "pump-room"
    catalog = Catalog()
    with site.platform.db.sessionmaker() as session:
        catalog.reload(session, site.platform, force=True)
    assert catalog.partition_key("SMK-1") == site.building  # a building keeps its devices whole
    r = site.client.patch("/api/v1/sensing/devices/SMK-1", json={"partition_group": None}, headers=site.admin)
    assert r.status_code == 200 and r.json()["partition_group"] is None
    r = site.client.patch(
        "/api/v1/sensing/devices/SMK-1", json={"partition_group": "a b"}, headers=site.admin
    )
    assert r.status_code == 422
