"""Addresses in words placed through the registry: a building by its road and number, two roads' crossing,
a landmark by a common or misspelt name, a community, a street; and words that name no place in Futian
are not placed anywhere."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from urbanbrain.domains.registry import queries, spatial
from urbanbrain.domains.registry.geocode import normalize
from urbanbrain.domains.registry.models import Building


def _where(platform, session, text):
    found = queries.geocode(platform, session, text)
    if found is None:
        return None, None
    return found, spatial.get_lookup(platform, session).locate(found.lon, found.lat)


def test_a_building_is_found_by_its_road_and_number_said_loosely(seeded):
    with seeded.db.session() as session:
        building = session.scalar(
            select(Building).where(Building.address.like("%路%号")).order_by(Building.id)
        )
        road, number = re.search(r"([^区街道社]{2,6}路)(\d+)号$", building.address).groups()
        same = session.scalars(select(Building).where(Building.address.like(f"%{road}{number}号"))).all()
        spoken = f"{road}{number}号那栋楼下" if len(same) == 1 else f"{building.address}楼下"
        found, where = _where(seeded, session, spoken)
    assert found is not None and found.precision == "building"
    assert (found.lon, found.lat) == (building.lon, building.lat)
    assert where.street_code == building.street_code


def test_two_main_roads_meet_at_their_crossing(seeded):
    with seeded.db.session() as session:
        found, where = _where(seeded, session, "福华路与金田路交汇处往北一点")
    assert found.precision == "intersection"
    assert (found.lon, found.lat) == (114.061, 22.535)
    assert where.street_code is not None


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("水围村口那家小饭店", "440304004"),  # Futian street
        ("喺黄岗村市场门口", "440304004"),  # Cantonese, and 皇岗 misspelt
        ("莲花山公园北门", "440304008"),  # Lianhua street
    ],
)
def test_a_landmark_is_found_by_the_names_people_use(seeded, text, street):
    with seeded.db.session() as session:
        found, where = _where(seeded, session, text)
    assert found is not None and found.precision == "landmark", found
    assert where.street_code == street


def test_a_community_and_a_street_are_found_by_their_names(seeded):
    with seeded.db.session() as session:
        community, where_c = _where(seeded, session, "我们上沙社区里面")
        street, where_s = _where(seeded, session, "梅林街道这边")
    assert community.precision in ("community", "landmark") and where_c.street_code == "440304005"
    assert street.precision == "street" and where_s.street_code == "440304007"


@pytest.mark.parametrize("text", ["我家楼下", "公司门口", "罗湖东门那边", "南山科技园", "深南大道上", ""])
def test_words_that_name_no_place_in_futian_are_not_placed(seeded, text):
    with seeded.db.session() as session:
        assert queries.geocode(seeded, session, text) is None


def test_normalize_drops_the_city_and_reads_house_numbers_in_chinese():
    assert normalize("深圳市福田区 沙嘴路 十二号") == "沙嘴路12号"
