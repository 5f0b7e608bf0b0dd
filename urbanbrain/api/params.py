"""Parameter types every route shares, bounded so that what a client sends either fits the database or is
refused with a 422 that says why: row ids, references that may be row ids, and ISO-8601 date-times."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, overload

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1  # a signed 64-bit integer: SQLite's INTEGER, PostgreSQL's bigint
EARLIEST_YEAR, LATEST_YEAR = 1900, 8999  # far from datetime's limits, so offsets and spans cannot overflow
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A row id, from 1 to 2^63 - 1.")]


def _ref_fits(ref: str) -> str:
    # A reference made of digits is also looked up as a row id (int(ref)): one past 64 bits overflows the
    # database, and other Unicode digits ("²") are no number int() reads.
    if ref.isdigit() and not (ref.isascii() and int(ref) <= MAX_ID):
        raise PydanticCustomError(
            "ref_not_an_id", "a reference made of digits is a row id: use 1 to {max}", {"max": MAX_ID}
        )
    return ref


Ref = Annotated[
    str,
    Path(min_length=1, max_length=64, description="A code or number, or the row id (digits)."),
    AfterValidator(_ref_fits),
]


def _iso_text(value: Any) -> Any:
    # Pydantic reads "0.5" or "1531094400" as seconds since 1970: a mistyped parameter should be refused,
    # not answered for 1970.
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError(
        "datetime_iso",
        "use an ISO 8601 date-time such as 2018-07-09T08:00:00+08:00 (a number is not one)",
    )


def _in_range(value: datetime) -> datetime:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError(
            "datetime_range",
            "use a date-time from year {low} to {high}",
            {"low": EARLIEST_YEAR, "high": LATEST_YEAR},
        )
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_in_range)]
"""A date-time query parameter: ISO 8601 only (``2018-07-09T08:00:00+08:00``; without an offset it is the
district's local time, see :func:`aware`)."""


@overload
def aware(at: datetime, utc_offset_hours: int) -> datetime: ...
@overload
def aware(at: None, utc_offset_hours: int) -> None: ...
def aware(at: datetime | None, utc_offset_hours: int) -> datetime | None:
    """A time given without an offset is the district's local time (what a person types)."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=timezone(timedelta(hours=utc_offset_hours)))
