"""Uploaded datasets: a CSV or Parquet file read into Arrow, checked against the dataset's schema (or giving
it one), before the lake replaces the upload's rows with it."""

from __future__ import annotations

import io
import re
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.datahub.catalog import field_type
from urbanbrain.domains.datahub.models import DatasetField
from urbanbrain.domains.datahub.schemas import FIELD_PATTERN

register_messages(
    {
        "datahub.bad_file": (
            422,
            "文件无法读取为 {kind}：{reason}",
            "The file cannot be read as {kind}: {reason}",
        ),
        "datahub.schema_mismatch": (
            422,
            "文件的列与数据集的字段不符：缺少 {missing}，多出 {extra}。",
            "The file's columns differ from the dataset's fields: missing {missing}, extra {extra}.",
        ),
    }
)

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
}
MAX_BYTES = 512 * 1024 * 1024


def read_table(data: bytes, content_type: str, fields: list[DatasetField]) -> pa.Table:
    """The file as a table with the dataset's columns and types; a first upload keeps the file's own."""
    parquet = data[:4] == b"PAR1" or "parquet" in content_type
    kind = "Parquet" if parquet else "CSV"
    try:
        if parquet:
            table = pq.read_table(io.BytesIO(data))
        else:
            types = {f.name: ARROW_TYPES[f.type] for f in fields}
            table = pacsv.read_csv(
                io.BytesIO(data),
                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
            )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise UrbanBrainError("datahub.bad_file", kind=kind, reason=str(exc).splitlines()[0][:200]) from None
    if not fields:
        return table
    names = [f.name for f in fields]
    missing = [n for n in names if n not in table.column_names]
    extra = [n for n in table.column_names if n not in names]
    if missing or extra:
        raise UrbanBrainError(
            "datahub.schema_mismatch", missing=", ".join(missing) or "-", extra=", ".join(extra) or "-"
        )
    try:
        return table.select(names).cast(pa.schema([pa.field(f.name, ARROW_TYPES[f.type]) for f in fields]))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise UrbanBrainError("datahub.bad_file", kind=kind, reason=str(exc).splitlines()[0][:200]) from None


def infer_fields(table: pa.Table) -> list[dict[str, Any]]:
    """Fields from a first file's columns; names must be plain identifiers, to be served safely."""
    bad = [n for n in table.column_names if not re.match(FIELD_PATTERN, n)]
    if bad:
        raise UrbanBrainError(
            "datahub.bad_file", kind="table", reason=f"column names must be letters, digits and _: {bad[:5]}"
        )
    return [
        {
            "name": f.name,
            "type": field_type(f.type),
            "description": "",
            "description_en": "",
            "protected": False,
            "mask": None,
        }
        for f in table.schema
    ]
