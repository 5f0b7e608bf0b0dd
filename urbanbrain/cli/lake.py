"""``urbanbrain lake``: inspect, compact, rebuild and drain the district lake (``<data_dir>/lake``, see
docs/lake.md). Safe beside a running server: what changes a table's files waits for that table's lock."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from urbanbrain.cli.settings import settings_or_exit
from urbanbrain.core.context import Platform
from urbanbrain.domains.datahub import queries
from urbanbrain.domains.datahub.lake import landing

app = typer.Typer(help="The district lake (数据湖): inspect, compact, rebuild.", no_args_is_help=True)
console = Console(soft_wrap=True)
TableOption = Annotated[
    str | None, typer.Option("--table", help="One table (cases, alarms, buildings, ...); default: all.")
]


@contextmanager
def _platform() -> Iterator[Platform]:
    platform = Platform.build(settings_or_exit())
    try:
        yield platform
    finally:
        platform.close()


@app.command("inspect")
def inspect(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
) -> None:
    """Files, rows, current records, bytes and partitions of every table."""
    with _platform() as platform:
        found = queries.lake(platform).inspect()
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table("table", "files", "rows", "records", "MB", "partitions", "oldest", "newest")
    for name, s in found.items():
        table.add_row(name, str(s["files"]), f"{s['rows']:,}", f"{s['records']:,}", f"{s['bytes'] / 1e6:.1f}",
                      str(s["partitions"]), s["oldest_partition"] or "", s["newest_partition"] or "")  # fmt: skip
    console.print(table)


@app.command("compact")
def compact(table: TableOption = None) -> None:
    """Rewrite each partition's files into one holding the newest row of each record. Readings partitions
    are compacted once no reading can reach them any more (older than the readings' maximum age)."""
    with _platform() as platform:
        lake = queries.lake(platform)
        if table is not None and table not in lake.table_names():
            _unknown(table, lake.table_names())
        # Readings older than the door's max age are refused: their partitions are closed a day or two later.
        open_days = math.ceil(platform.settings.sensing_max_age_days) + 2
        done = lake.compact(table, today=lake.local_date(platform.clock.now()), readings_open_days=open_days)
    for name, s in done.items():
        console.print(
            f"{name}: {s['partitions']} partition(s) compacted, files {s['files_before']} -> {s['files_after']}"
        )


@app.command("rebuild")
def rebuild(table: TableOption = None) -> None:
    """Re-land every record of the table(s) from the database into fresh files, then swap them in place of the
    old ones (after a lost or damaged lake, or a change of the lake's columns)."""
    with _platform() as platform:
        if table is not None and table not in landing.LANDED_TABLES:
            _unknown(table, list(landing.LANDED_TABLES))
        done = landing.rebuild(platform, table)
    for name, rows in done.items():
        console.print(f"{name}: {rows:,} record(s) landed")


@app.command("drain")
def drain() -> None:
    """Land the records queued by the bus consumers now (a server does it every two seconds)."""
    with _platform() as platform:
        rows = landing.drain(platform)
    console.print(f"{rows:,} row(s) landed")


def _unknown(table: str, known: list[str]) -> None:
    console.print(f"[red]lake.unknown_table[/red]: {table!r}; choose one of {', '.join(known)}")
    raise typer.Exit(2)
