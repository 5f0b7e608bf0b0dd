"""Load the demo district (Futian) into the registry: its real outline and divisions, and the generated
records of :mod:`urbanbrain.demo.district`, through the registry's bulk load."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy.orm import Session

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.demo.departments import demo_departments
from urbanbrain.demo.district import generate
from urbanbrain.demo.futian import build_futian_areas
from urbanbrain.domains.registry.actions import do_load_district
from urbanbrain.domains.registry.schemas import DistrictLoad


def do_seed_futian(
    session: Session, platform: Platform, actor: Principal, *, scale: float = 1.0, seed: int = 20180709
) -> dict[str, int]:
    """Areas, departments and the generated demo records, in one transaction."""
    areas = build_futian_areas()
    departments = demo_departments(areas)
    demo = generate(areas, departments, seed=seed, scale=scale)
    load = DistrictLoad(
        areas=[{f.name: getattr(a, f.name) for f in fields(a)} for a in areas],
        departments=departments,
        buildings=demo.buildings,
        units=demo.units,
        residents=demo.residents,
        venues=demo.venues,
        licences=demo.licences,
        facilities=demo.facilities,
        note={"scale": scale, "seed": seed},
    )
    return do_load_district(session, platform, actor, load)
