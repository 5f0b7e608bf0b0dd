"""What the platform's own lake tables publish as: the built-in datasets (``catalog.toml``) and the fields a
dataset gets from its lake table. Protection comes from the lake: a column the lake masks stays protected
whatever the publisher says."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.datahub.lake.tables import TABLES
from urbanbrain.domains.datahub.models import DatasetField
from urbanbrain.domains.datahub.schemas import DatasetPublish, FieldSpec

# Bookkeeping columns of the lake that are not part of a dataset's meaning.
HIDDEN_COLUMNS = frozenset({"landed_at", "date"})
# Masks under which the lake itself holds only the masked value (a sealed field never lands in the clear).
LAKE_MASKED = frozenset({"id_number", "phone"})
SOURCE_OF_KIND = {"cases": "cases", "alarms": "alarms", "telemetry": "readings"}


@cache
def _toml() -> dict[str, Any]:
    with (Path(__file__).parent / "catalog.toml").open("rb") as fh:
        return tomllib.load(fh)["datasets"]


def lake_sources() -> list[str]:
    return sorted(TABLES)


def default_source(kind: str) -> str:
    if kind not in SOURCE_OF_KIND:
        raise UrbanBrainError("request.invalid", summary=f"a {kind} dataset names its lake table in 'source'")
    return SOURCE_OF_KIND[kind]


def field_type(t: pa.DataType) -> str:
    """The catalog's word for an Arrow type."""
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    return "string"


def lake_fields(source: str, overrides: list[FieldSpec] | None) -> list[dict[str, Any]]:
    """A lake table's columns as dataset fields; the publisher may describe them better or protect more."""
    given = {f.name: f for f in overrides or []}
    unknown = [n for n in given if n not in {c.name for c in TABLES[source].columns}]
    if unknown:
        raise UrbanBrainError(
            "request.invalid", summary=f"the lake table {source} has no column {', '.join(unknown)}"
        )
    out = []
    for column in TABLES[source].columns:
        if column.name in HIDDEN_COLUMNS:
            continue
        spec = given.get(column.name)
        mask: str | None = column.mask
        if mask is None and spec is not None and spec.protected:
            mask = spec.mask or "hidden"
        out.append(
            {
                "name": column.name,
                "type": field_type(column.type),
                "description": (spec.description if spec and spec.description else column.description_zh),
                "description_en": (
                    spec.description_en if spec and spec.description_en else column.description_en
                ),
                "protected": mask is not None,
                "mask": mask,
            }
        )
    return out


def upload_fields(given: list[FieldSpec] | None, existing: list[DatasetField] | None) -> list[dict[str, Any]]:
    """An upload's schema as given; none given keeps the schema it has (or waits for the first file)."""
    if given is None:
        return [
            {k: getattr(f, k) for k in ("name", "type", "description", "description_en", "protected", "mask")}
            for f in existing or []
        ]
    return [{**f.model_dump(), "mask": (f.mask or "hidden") if f.protected else None} for f in given]


def can_be_clear(source_kind: str, field: DatasetField) -> bool:
    """Whether an owner can grant the field unmasked: not where the lake holds only the masked value."""
    return source_kind == "upload" or field.mask not in LAKE_MASKED


def builtin(owners: dict[str, str] | None = None) -> list[DatasetPublish]:
    """The platform's own datasets as publish requests, each owned by its default department unless
    ``owners`` (code -> department code) says otherwise."""
    out = []
    for code, d in _toml().items():
        out.append(
            DatasetPublish(
                code=code,
                title_zh=d["title_zh"],
                title_en=d["title_en"],
                description=d["description"],
                owner_department=(owners or {}).get(code, d["default_owner"]),
                source_kind=d["source_kind"],
                source=d["source"],
                update_frequency=d["update_frequency"],
                sharing_class=d["sharing_class"],
                keywords=d["keywords"],
            )
        )
    return out
