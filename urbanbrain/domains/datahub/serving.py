"""A grant turned into one DuckDB query: the granted fields (masked where the grant says so), the grant's row
conditions, then the consumer's own filters and sort, which can only name the grant's output columns.

The query has two layers. The inner one reads the lake and is written from the grant alone: it selects the
granted fields, masked inside the query, and applies the owner's row conditions. The outer one applies what
the consumer asked for, and sees nothing but the inner one's columns. So a field that was not granted is never
selected, cannot be filtered or sorted on, and a masked field is filtered and sorted on its masked value, not
the clear one (no guessing an ID number by bisection). Names in the consumer's request are checked against the
grant before any SQL is written, and every value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "datahub.field_not_granted": (
            422,
            "字段“{field}”不在您的授权范围内。可用字段：{granted}。",
            "'{field}' is not among the fields of your grant. You may use: {granted}.",
        ),
        "datahub.bad_filter": (
            422,
            "筛选条件“{text}”无法理解：应写作 字段:运算:值，运算为 eq、ne、gt、gte、lt、lte、in。",
            "The filter '{text}' cannot be read: write field:op:value, op one of eq, ne, gt, gte, lt, lte, in.",
        ),
        "datahub.bad_value": (
            422,
            "字段“{field}”的值“{value}”不是{type}。",
            "The value '{value}' for '{field}' is not a valid {type}.",
        ),
        "datahub.query_failed": (
            422,
            "按这些条件无法读取数据，请检查筛选值后重试。",
            "The data cannot be read with these conditions; check the filter values and try again.",
        ),
    }
)

MASK_SQL = {
    # The same rules as core.protect's mask_* functions, written in SQL so masking happens in the query.
    "id_number": "CASE WHEN {c} IS NULL OR {c} = '' THEN {c} WHEN length({c}) <= 8 THEN repeat('*', length({c})) "
    "ELSE left({c}, 4) || repeat('*', length({c}) - 8) || right({c}, 4) END",
    "phone": "CASE WHEN {c} IS NULL OR {c} = '' THEN {c} WHEN length({c}) < 7 THEN repeat('*', length({c})) "
    "ELSE left({c}, 3) || repeat('*', length({c}) - 7) || right({c}, 4) END",
    "name": "CASE WHEN {c} IS NULL OR {c} = '' THEN {c} ELSE left({c}, 1) || repeat('*', length({c}) - 1) END",
    "hidden": "CASE WHEN {c} IS NULL THEN NULL ELSE '***' END",
}
OP_SQL = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
TYPE_WORDS = {
    "integer": ("整数", "integer"),
    "number": ("数字", "number"),
    "boolean": ("布尔值（true/false）", "boolean (true/false)"),
    "timestamp": ("时间（ISO 8601）", "time (ISO 8601)"),
    "date": ("日期（YYYY-MM-DD）", "date (YYYY-MM-DD)"),
    "string": ("文本", "text"),
}


@dataclass(frozen=True)
class Column:
    """A dataset field as the query sees it."""

    name: str
    type: str
    mask: str | None


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


def quote(name: str) -> str:
    """An identifier; names are checked against the catalog's pattern first, so this is belt and braces."""
    return '"' + name.replace('"', '""') + '"'


def output_type(column: Column, mode: str) -> str:
    """What a consumer sees: a masked field is text whatever it was."""
    return "string" if mode == "masked" else column.type


def coerce(value: Any, type_: str, field: str) -> Any:
    """A consumer's or owner's value as the field's type, or a 422 naming the (granted) field."""
    try:
        if type_ == "integer":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if type_ == "number":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if type_ == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("true", "false", "1", "0"):
                raise ValueError
            return text in ("true", "1")
        if type_ == "timestamp":
            parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            if parsed.tzinfo is not None:  # the lake's times are UTC, naive
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
            return parsed
        if type_ == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        return str(value)
    except (TypeError, ValueError, OverflowError):
        zh, en = TYPE_WORDS.get(type_, TYPE_WORDS["string"])
        raise UrbanBrainError("datahub.bad_value", field=field, value=str(value)[:80], type=en) from None


def parse_filters(texts: list[str]) -> list[Condition]:
    """``field:op:value`` (``in`` takes values separated by ``|``); the value may hold colons (times)."""
    out: list[Condition] = []
    for text in texts:
        field, sep, rest = text.partition(":")
        op, sep2, value = rest.partition(":")
        if not sep or not sep2 or not field or op not in OP_SQL and op != "in":
            raise UrbanBrainError("datahub.bad_filter", text=text[:120])
        out.append(Condition(field, op, value.split("|") if op == "in" else value))
    return out


def _where(conditions: list[Condition], types: dict[str, str], params: list[Any], prefix: str = "") -> str:
    """Conditions as SQL with bound values. The grant's own conditions (``prefix="src."``) read the lake's
    columns: an owner may limit rows by a field it did not share, such as a street code."""
    parts = []
    for c in conditions:
        type_ = types[c.field]
        ref = prefix + quote(c.field)
        if c.op == "in":
            values = c.value if isinstance(c.value, list) else [c.value]
            params.extend(coerce(v, type_, c.field) for v in values)
            parts.append(f"{ref} IN ({', '.join('?' for _ in values)})")
        else:
            params.append(coerce(c.value, type_, c.field))
            parts.append(f"{ref} {OP_SQL[c.op]} ?")
    return " AND ".join(parts) if parts else "TRUE"


@dataclass
class GrantQuery:
    """The query a grant allows, with the consumer's filters and sort applied in the outer layer."""

    relation: str  # the lake's relation for the dataset (a parenthesised subquery)
    columns: dict[str, Column]  # every field of the dataset, by name
    granted: list[tuple[str, str]]  # (field, clear|masked), in the dataset's order
    owner_rows: list[Condition]

    def granted_names(self) -> str:
        return ", ".join(name for name, _ in self.granted)

    def _check(self, field: str) -> None:
        if field not in dict(self.granted):
            raise UrbanBrainError("datahub.field_not_granted", field=field[:64], granted=self.granted_names())

    def inner(self, params: list[Any]) -> str:
        select = []
        for name, mode in self.granted:
            column = self.columns[name]
            ref = f"src.{quote(name)}"
            if mode == "masked":
                ref = MASK_SQL[column.mask or "hidden"].format(c=f"CAST({ref} AS VARCHAR)")
            select.append(f"{ref} AS {quote(name)}")
        types = {name: c.type for name, c in self.columns.items()}
        where = _where(self.owner_rows, types, params, prefix="src.")
        return f"SELECT {', '.join(select)} FROM {self.relation} AS src WHERE {where}"

    def outer(self, filters: list[Condition], sort: list[str], params: list[Any]) -> tuple[str, str]:
        """(where, order by) over the inner query's columns, from the consumer's filters and sort."""
        for c in filters:
            self._check(c.field)
        modes = dict(self.granted)
        types = {name: output_type(self.columns[name], modes[name]) for name in modes}
        where = _where(filters, types, params)
        order = []
        for key in sort:
            name = key.lstrip("-+")
            self._check(name)
            order.append(f"{quote(name)} {'DESC' if key.startswith('-') else 'ASC'} NULLS LAST")
        return where, ", ".join(order)

    def page_sql(
        self, filters: list[Condition], sort: list[str], limit: int, offset: int
    ) -> tuple[str, list[Any], str, list[Any]]:
        """(rows query, its params, count query, its params)."""
        params: list[Any] = []
        inner = self.inner(params)
        where, order = self.outer(filters, sort, params)
        base = f"SELECT * FROM ({inner}) AS g WHERE {where}"
        rows = base + (f" ORDER BY {order}" if order else "") + " LIMIT ? OFFSET ?"
        return rows, [*params, limit, offset], f"SELECT count(*) FROM ({base}) AS n", list(params)

    def export_sql(self, filters: list[Condition], sort: list[str]) -> tuple[str, list[Any]]:
        params: list[Any] = []
        inner = self.inner(params)
        where, order = self.outer(filters, sort, params)
        sql = f"SELECT * FROM ({inner}) AS g WHERE {where}" + (f" ORDER BY {order}" if order else "")
        return sql, params
