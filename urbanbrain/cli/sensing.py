"""``urbanbrain sensing work``: a worker of the readings stream, without the HTTP API (scale-out).

Doors (``urbanbrain serve`` with ``URBANBRAIN_SENSING_STREAM_URL`` and ``URBANBRAIN_SENSING_OWNED_PARTITIONS=none``)
check readings and store them in JetStream by partition; each worker takes the partitions it is given, runs
their rules and writes their alarms, latest values and lake files. See docs/sensing.md, "Scaling out".
"""

from __future__ import annotations

import json
import signal
import threading
import time
from typing import Annotated

import typer
from rich.console import Console

from urbanbrain.cli.settings import settings_or_exit
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError

console = Console(stderr=True)


def work(
    partitions: Annotated[
        str | None, typer.Option(help="The partitions to work: all, or e.g. 0-3,8 (default: the setting).")
    ] = None,
    report_seconds: Annotated[
        float, typer.Option(help="Print this worker's counts as a JSON line this often (0: never).")
    ] = 0.0,
) -> None:
    """Work partitions of the readings stream until stopped (SIGTERM or Ctrl-C)."""
    from urbanbrain.domains.sensing.ingest.service import PipelineService

    settings = settings_or_exit()
    if not settings.sensing_stream_url:
        console.print("[red]sensing.no_stream[/red]: set URBANBRAIN_SENSING_STREAM_URL (nats://host:port) / "
                      "请设置 URBANBRAIN_SENSING_STREAM_URL。")  # fmt: skip
        raise typer.Exit(2)
    if partitions is not None:
        settings = settings.model_copy(update={"sensing_owned_partitions": partitions})
    platform = Platform.build(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        service = PipelineService(platform)
    except UrbanBrainError as err:
        console.print(f"[red]{err.code}[/red]: {err.render('en')} / {err.render('zh-CN')}")
        platform.close()
        raise typer.Exit(2) from None
    service.start()
    console.print(
        f"sensing worker: partitions {settings.sensing_owned_partitions} of {settings.sensing_partitions}"
    )
    try:
        while not stop.wait(report_seconds or 1.0):
            if report_seconds:
                stats = dict(service.pipeline.stats, at=time.time())
                print(json.dumps(stats), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        platform.close()
