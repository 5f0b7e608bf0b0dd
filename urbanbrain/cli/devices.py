"""``urbanbrain simulate devices`` and the demo's fire-safety devices (IoT fire warning in 水围村).

Three ways to send the readings:

* ``--to direct`` replays a stretch of past time straight into the database through a pipeline of this
  process, the clock following the readings (the server must be stopped: this is how the demo fills the
  last day before it serves);
* ``--to http`` posts batches to a running server's ``/api/v1/sensing/readings`` with an API key that has
  the ``devices:write`` scope;
* ``--to mqtt`` publishes one message per reading to ``ub/<district>/devices/<id>/readings`` on a broker:
  Mosquitto, or the embedded broker of ``URBANBRAIN_MQTT_URL=embedded://…`` with the user name ``gateway``
  and that API key as the password.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console

from urbanbrain.cli.settings import settings_or_exit
from urbanbrain.core.config import Settings
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError

console = Console(soft_wrap=True)  # a key or a URL is never cut across lines
DEMO_MQTT_URL = "embedded://127.0.0.1:1884"


def _parse_start(start: str | None, default: float) -> float:
    if start is None or start == "now":
        return default
    try:
        return datetime.fromisoformat(start).astimezone(UTC).timestamp()
    except ValueError:
        raise typer.BadParameter(f"not an ISO time with its offset: {start!r}") from None


def _publisher(
    to: str, url: str, api_key: str | None, mqtt_url: str, district: str, per_message: bool
) -> Any:
    from urbanbrain.simulate.publish import HttpPublisher, MqttPublisher

    if to == "http":
        if not api_key:
            raise typer.BadParameter("--to http needs --api-key (an API key with the devices:write scope)")
        return HttpPublisher(url, api_key)
    parts = urlsplit(mqtt_url)
    user, password = parts.username, parts.password
    if parts.scheme == "embedded":  # the platform's own broker: log in as a gateway with the API key
        user, password = "gateway", api_key
    return MqttPublisher(parts.hostname or "127.0.0.1", parts.port or 1883, district,
                         batch_per_message=per_message, username=user, password=password)  # fmt: skip


def simulate_devices(
    village: Annotated[str, typer.Option(help="Registry code of the urban village.")] = "440304004028-V01",
    buildings: Annotated[int, typer.Option(min=0, help="Only the first N buildings (0: all).")] = 0,
    hours: Annotated[float, typer.Option(min=0.01, help="How long, in simulated hours.")] = 24.0,
    start: Annotated[str | None, typer.Option(help="ISO start; default: now (direct: now - hours).")] = None,
    speed: Annotated[float, typer.Option(min=0, help="Simulated seconds per real second (0: flat out).")] = 0,
    interval: Annotated[float, typer.Option(min=1, help="Seconds between a device's reports.")] = 60,
    to: Annotated[str, typer.Option(help="direct | http | mqtt")] = "direct",
    url: Annotated[str, typer.Option(help="Server for --to http.")] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(envvar="URBANBRAIN_DEVICE_API_KEY")] = None,
    mqtt_url: Annotated[str, typer.Option(help="mqtt://[user:pass@]host:port or embedded://host:port")] = (
        "mqtt://127.0.0.1:1883"
    ),
    batched: Annotated[bool, typer.Option(help="MQTT: one message per device per report.")] = False,
    fires: Annotated[int, typer.Option(min=0, help="Fires in the period, at random buildings.")] = 1,
    trouble: Annotated[bool, typer.Option(help="Faults, drop-outs, overloads, noisy detectors.")] = True,
    seed: Annotated[int, typer.Option(help="The same seed gives the same devices and the same day.")] = 1,
    provision: Annotated[bool, typer.Option(help="Provision the devices in this database first.")] = True,
) -> None:
    """Fire-safety devices of an urban village reporting like real ones, with daily patterns, noise, faults,
    drop-outs and fires: replayed into the database, or published over HTTP or MQTT to a running server."""
    from urbanbrain.simulate import fire_village as simulation
    from urbanbrain.simulate.devices import Simulator, random_scenarios
    from urbanbrain.simulate.publish import run

    if to not in ("direct", "http", "mqtt"):
        raise typer.BadParameter("--to is direct, http or mqtt")
    settings = settings_or_exit()
    now = math.floor(time.time() / interval) * interval
    begin = _parse_start(start, now - hours * 3600 if to == "direct" else now)
    platform = Platform.build(settings, clock=simulation.replay_clock(begin) if to == "direct" else None)
    try:
        try:
            fleet = simulation.village_fleet(platform, village, limit=buildings or None, seed=seed)
        except UrbanBrainError as err:
            console.print(f"[red]{err.code}[/red]: {err.render('en')} / {err.render('zh-CN')}")
            raise typer.Exit(2) from None
        if provision or to == "direct":
            counts = simulation.provision(platform, fleet, settings.data_dir / "simulate")
            console.print(f"{counts['devices']:,} devices, {counts['devices_added']:,} newly provisioned")
        scenarios = random_scenarios(fleet, start_ts=begin, seed=seed, hours=hours, fires=fires,
                                     **({} if trouble else _QUIET))  # fmt: skip
        for s in scenarios:
            console.print(
                f"  {s.kind:15} {_when(s.start_ts, settings.utc_offset_hours)}  {getattr(s, 'device_id', None) or getattr(s, 'building_code', '')}"
            )
        if to == "direct":
            stats = simulation.replay(platform, fleet, scenarios, start_ts=begin, end_ts=begin + hours * 3600,
                                      interval_s=interval, seed=seed)  # fmt: skip
            platform.relay.flush()
            console.print(f"replayed {hours:g} h in {stats.wall_seconds:.1f} s: " +
                          ", ".join(f"{v:,} {k}" for k, v in stats.as_dict().items()))  # fmt: skip
            return
    finally:
        platform.close()
    publisher = _publisher(to, url, api_key, mqtt_url, settings.district_code, batched)
    simulator = Simulator(fleet, scenarios, start_ts=begin, interval_s=interval, seed=seed)

    async def go() -> Any:
        try:
            return await run(simulator, publisher, speed=speed, until_ts=begin + hours * 3600)
        finally:
            await publisher.close()

    stats = asyncio.run(go())
    console.print(f"published {stats.messages:,} messages ({stats.sim_seconds / 3600:.2f} simulated h) "
                  f"in {stats.wall_seconds:.1f} s")  # fmt: skip


_QUIET = {"faults": 0, "dropouts": 0, "overloads": 0, "overheats": 0, "noisy": 0}


def _when(ts: float, utc_offset_hours: float = 8.0) -> str:
    """A time as the district reads it (UTC+8 in Futian)."""
    return datetime.fromtimestamp(ts, timezone(timedelta(hours=utc_offset_hours))).strftime("%Y-%m-%d %H:%M")


# --- the demo ---------------------------------------------------------------------------------------------


def demo_devices(settings: Settings, seed: int = 1) -> dict[str, Any] | None:
    """Once: the fire-safety devices of every 水围村 building, and the last day of their readings (a fire,
    faults, drop-outs, overloads, a noisy detector) replayed, so alarms, a fire case and the owners' SMS
    are there from the first start. Returns what it did, or None when it was done before."""
    from urbanbrain.simulate import fire_village as simulation
    from urbanbrain.simulate.devices import random_scenarios

    check = Platform.build(settings)
    try:
        if simulation.provisioned(check):
            return None
    finally:
        check.close()
    interval, hours = 60.0, 24.0
    end = math.floor(time.time() / interval) * interval
    platform = Platform.build(settings, clock=simulation.replay_clock(end - hours * 3600))
    try:
        fleet = simulation.village_fleet(platform, seed=seed)
        simulation.provision(platform, fleet, settings.data_dir / "simulate")
        scenarios = random_scenarios(fleet, start_ts=end - hours * 3600, seed=seed, hours=hours)
        stats = simulation.replay(platform, fleet, scenarios, start_ts=end - hours * 3600, end_ts=end,
                                  interval_s=interval, seed=seed)  # fmt: skip
        platform.relay.flush()
    finally:
        platform.close()
    return {"devices": len(fleet), **stats.as_dict(), "seconds": round(stats.wall_seconds, 1)}


def device_gateway_key(platform: Platform, saved: dict[str, Any]) -> dict[str, Any]:
    """The demo's device gateway: an API key with the devices:write scope (kept in demo-credentials.json)."""
    gateway = saved.get("devices")
    if isinstance(gateway, dict) and gateway.get("api_key"):
        return gateway
    from urbanbrain.core.auth.actions import do_create_api_key
    from urbanbrain.core.auth.principal import SYSTEM

    with platform.db.session() as session:
        _, key = do_create_api_key(session, platform.clock, SYSTEM, name="demo device gateway",
                                   scopes=["devices:write"])  # fmt: skip
    return {"api_key": key}


def start_live_devices(settings: Settings, api_key: str, mqtt_url: str, *, seed: int = 1,
                       fire_in_s: float = 60.0) -> str:  # fmt: skip
    """While the demo serves: the same devices report every minute over MQTT (the embedded broker), on the
    wall clock, and a minute or so after the server is up a fire breaks out in one building. When the server
    is up it prints when the stream will show the smoke warning and the confirmed fire. Returns the
    building's code."""
    from urbanbrain.simulate import fire_village as simulation
    from urbanbrain.simulate.devices import Simulator
    from urbanbrain.simulate.publish import run

    platform = Platform.build(settings)
    try:
        fleet = simulation.village_fleet(platform, seed=seed)
        rules = simulation.active_rules(platform)
    finally:
        platform.close()
    building = sorted(fleet.by_building)[len(fleet.by_building) // 2]
    publisher = _publisher("mqtt", "", api_key, mqtt_url, settings.district_code, False)
    base = f"http://{settings.host}:{settings.port}"

    async def live() -> None:
        import httpx

        async with httpx.AsyncClient() as client:
            while True:  # until the server (and its broker) is up
                try:
                    if (await client.get(base + "/healthz", timeout=2)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(1)
        now = time.time()
        # from the minute the replayed day ended (or later): no message id is sent twice
        start = math.floor(now / 60) * 60
        fire, timeline = simulation.staged_fire(fleet, building, rules, start_ts=start,
                                                not_before=now + fire_in_s, seed=seed)  # fmt: skip
        simulator = Simulator(fleet, [fire], start_ts=start, interval_s=60, seed=seed)
        console.print(_fire_line(fire.building_code, fire.start_ts, timeline, settings.utc_offset_hours))
        while True:
            try:
                await run(simulator, publisher, speed=1.0, realtime=True)
            except Exception as exc:  # the broker went away: say so and try again
                console.print(f"[yellow]live devices: {exc!r}; retrying[/yellow]")
                await publisher.close()
                await asyncio.sleep(5)

    threading.Thread(target=lambda: asyncio.run(live()), name="demo-devices", daemon=True).start()
    return building


def _fire_line(building: str, start_ts: float, timeline: dict[str, float], utc_offset_hours: int) -> str:
    """What the live demo's fire will show on the alert stream, and when (the district's local time)."""

    def at(ts: float) -> str:
        return datetime.fromtimestamp(ts, timezone(timedelta(hours=utc_offset_hours))).strftime("%H:%M:%S")

    line = f"live devices: a fire breaks out in {building} at {at(start_ts)} (UTC{utc_offset_hours:+d})"
    if "smoke" in timeline:
        line += f"; the alert stream shows a smoke warning (yellow) at {at(timeline['smoke'])}"
    if "fire" in timeline:
        line += f" and the confirmed fire (red, then its case) at {at(timeline['fire'])}"
    return line
