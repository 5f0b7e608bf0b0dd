"""``urbanbrain simulate crowd``: provision a venue's virtual devices on a running platform, declare its zone,
simulate an evening with JuPedSim (cached) and stream what the devices saw to the HTTP readings door."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer


def simulate_crowd(
    venue: Annotated[str, typer.Option(help="civic_plaza, metro_exit or pedestrian_street.")] = "civic_plaza",
    minutes: Annotated[float, typer.Option(min=1, help="Simulated minutes.")] = 60.0,
    safe: Annotated[
        bool, typer.Option(help="An evening that stays safe (default: one that becomes dangerous).")
    ] = False,
    speed: Annotated[
        float, typer.Option(min=0, help="Simulated seconds per real second; 0: as fast as possible.")
    ] = 60.0,
    url: Annotated[str, typer.Option(help="The platform.")] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str, typer.Option(envvar="URBANBRAIN_API_KEY", help="An API key with the devices:write scope.")
    ] = "",
    token: Annotated[
        str,
        typer.Option(
            envvar="URBANBRAIN_TOKEN", help="Bearer token to provision with (default: the API key)."
        ),
    ] = "",
    start: Annotated[
        float | None,
        typer.Option(
            help="Event time of the evening's start, Unix seconds; default: its last message is sent as its "
            "event time comes."
        ),
    ] = None,
    seed: Annotated[int, typer.Option()] = 1,
    cache: Annotated[Path, typer.Option(help="Where runs are kept, by scenario hash.")] = Path(
        "var/crowd-scenarios"
    ),
) -> None:
    """Provision, declare the zone, simulate (or read the cached run) and stream at ``--speed``."""
    import httpx

    from urbanbrain.simulate.crowd.demo import AHEAD_S, place
    from urbanbrain.simulate.crowd.publish import declare_zone, provision, stream
    from urbanbrain.simulate.crowd.suite import Result, evening

    if not api_key:
        raise typer.BadParameter(
            "needs --api-key (or URBANBRAIN_API_KEY): an API key with the devices:write scope"
        )
    scenario = evening(venue, minutes, dangerous=not safe, seed=seed)
    typer.echo(f"simulating {scenario.key}: {scenario.notes} (cached under {cache})")
    result = Result(scenario, scenario.record(cache))
    rec = result.record
    typer.echo(
        f"peak {rec.peak_density:.2f} p/m², 5 p/m² at {result.danger_at_s} s; "
        f"{rec.agent_seconds / max(rec.wall_s, 1e-9):,.0f} agent-seconds per second"
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {"X-API-Key": api_key}
    site = scenario.site()
    with httpx.Client(base_url=url, timeout=30.0) as client:
        provision(client, site, headers)
        declare_zone(client, site, headers)
        if start is None:  # so that no message comes from further ahead than the door takes
            probe = result.messages(0.0)
            start = place(probe[0]["ts"], probe[-1]["ts"], now=time.time(), speed=speed)
        messages = result.messages(start)
        typer.echo(f"streaming {len(messages)} messages at {speed or 'full'} speed")
        sent = stream(client, messages, api_key=api_key, speed=speed, ahead_s=AHEAD_S)
    typer.echo(f"sent {sent} messages")
