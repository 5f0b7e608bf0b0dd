"""Who sees which registry rows, and how protected fields are shown.

Data scope by role: ``street`` and ``community`` roles see rows inside their area; ``department`` roles see
the facilities their department owns (buildings, venues and areas are shared reference data). Protected
fields are decrypted for ``registry.pii.read`` and masked for everyone else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, true

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.protect import Protector, mask_id_number, mask_name, mask_phone
from urbanbrain.domains.registry.models import Building, Facility


def row_filter(principal: Principal, model: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting ``model`` (Building, Venue, Facility) to the principal's scope."""
    if principal.scope == "street":
        return model.street_code == principal.area_code  # type: ignore[no-any-return]
    if principal.scope == "community":
        return model.community_code == principal.area_code  # type: ignore[no-any-return]
    if principal.scope == "department" and model is Facility:
        return Facility.owner_department_id == principal.department_id
    return true()


def household_filter(principal: Principal) -> ColumnElement[bool]:
    """Units and residents follow their building's area."""
    return row_filter(principal, Building)


def check_row(
    principal: Principal,
    *,
    street_code: str | None,
    community_code: str | None,
    owner_department_id: int | None = None,
) -> None:
    """Refuse a read or write of one row outside the principal's scope."""
    ok = True
    if principal.scope == "street":
        ok = street_code == principal.area_code
    elif principal.scope == "community":
        ok = community_code == principal.area_code
    elif principal.scope == "department" and owner_department_id is not None:
        ok = owner_department_id == principal.department_id
    if not ok:
        where = (
            principal.area_code
            if principal.scope != "department"
            else f"department {principal.department_id}"
        )
        raise UrbanBrainError("auth.out_of_scope", scope=f"{principal.scope} {where}")


def show_phone(protector: Protector, principal: Principal, sealed: str | None) -> str | None:
    plain = protector.open(sealed)
    return plain if principal.can("registry.pii.read") else mask_phone(plain)


def show_id_number(protector: Protector, principal: Principal, sealed: str | None) -> str | None:
    plain = protector.open(sealed)
    return plain if principal.can("registry.pii.read") else mask_id_number(plain)


def show_name(principal: Principal, name: str) -> str:
    return name if principal.can("registry.pii.read") else (mask_name(name) or "")
