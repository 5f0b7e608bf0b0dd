"""The demo's light show (issue 17): while ``urbanbrain demo`` serves, the Civic Center plaza's virtual crowd
devices report a dangerous evening through the readings door, a few times faster than it happened, so the
big screen shows the density rise, the forecast warning and the crowd plan starting
(``urbanbrain/simulate/crowd/demo.py`` holds the evening; this module runs it beside the server)."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from rich.console import Console
from sqlalchemy import select

from urbanbrain.apps.linkage.actions import do_stand_down_incident
from urbanbrain.apps.linkage.models import Incident
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.config import Settings
from urbanbrain.core.context import Platform
from urbanbrain.domains.crowd.actions import do_forget_estimate
from urbanbrain.domains.crowd.models import Zone
from urbanbrain.domains.sensing.actions import do_clear_alarm
from urbanbrain.domains.sensing.models import OPEN_ALARM, Alarm

if TYPE_CHECKING:
    from urbanbrain.simulate.crowd.demo import Evening

console = Console(soft_wrap=True)
ZONE = "CC-PLAZA"  # the plaza's zone, its devices' prefix
NOTE = "演示：下一场灯光秀 / demo: the next light-show evening"


def jupedsim_problem() -> str | None:
    """Why JuPedSim cannot be imported (``make install`` installs it without its GUI stack), or None."""
    try:
        import jupedsim  # noqa: F401  (only to know that it loads)
    except ImportError as err:
        return str(err) or type(err).__name__
    return None


@dataclass
class LightShow:
    """The light show of one demo start: the data dir, and the process simulating its evening (None when
    the record was cached)."""

    data_dir: Path
    simulating: subprocess.Popen[bytes] | None

    def start(self, settings: Settings, admin_password: str, api_key: str) -> None:
        """Once the server is up, in a thread: install, provision and declare the plaza, end the last
        evening, wait for the simulation, then stream; it prints when the warning and the plan will come."""
        threading.Thread(
            target=self._run, args=(settings, admin_password, api_key), name="demo-light-show", daemon=True
        ).start()

    def _run(self, settings: Settings, admin_password: str, api_key: str) -> None:
        try:
            self._show(settings, admin_password, api_key)
        except Exception as exc:  # the show is an extra: say what went wrong, the demo serves on
            say(f"{exc!r}; the demo goes on without it")

    def _show(self, settings: Settings, admin_password: str, api_key: str) -> None:
        from urbanbrain.simulate.crowd import demo, publish  # JuPedSim's modules, known to load by now

        with httpx.Client(base_url=f"http://{settings.host}:{settings.port}", timeout=30.0) as client:
            _wait_until_up(client)
            # a line per batch of readings, every second or so, would push the demo's own lines off the screen
            logging.getLogger("uvicorn.access").addFilter(_QuietPath(publish.READINGS))
            answer = client.post("/api/v1/auth/token", data={"username": "admin", "password": admin_password})
            admin = {"Authorization": f"Bearer {answer.json()['access_token']}"}
            publish.install_device_types(client, admin)
            site = demo.scenario().site()
            publish.provision(client, site, admin)
            publish.declare_zone(client, site, admin, code=ZONE)
            if not self._simulated():
                return
            after = publish.newest_reading(client, site, admin)
            chosen, messages = demo.plan(demo.record(self.data_dir), now=time.time(), after=after)
            demo.save(self.data_dir, chosen)
            console.print(show_line(chosen, settings.utc_offset_hours))
            sent = publish.stream(client, messages, api_key=api_key, speed=chosen.speed, ahead_s=demo.AHEAD_S)
            say(f"the evening is over ({sent:,} messages sent); `make demo` again streams another")

    def _simulated(self) -> bool:
        """Wait for the simulation, if one runs; whether the evening's record is there."""
        from urbanbrain.simulate.crowd import demo

        if self.simulating is None:
            return True
        began = time.perf_counter()
        status = self.simulating.wait()
        if status != 0:
            say(f"the simulation failed (exit status {status}); the demo goes on without it")
            return False
        cache = self.data_dir / demo.CACHE
        say(f"JuPedSim simulated the evening; waited {time.perf_counter() - began:.0f} s for it (cached in "
            f"{cache} for the next start)")  # fmt: skip
        return True


def say(text: str) -> None:
    console.print(f"light show: {text}")


def end_last_evening(platform: Platform, zone: str = ZONE) -> dict[str, int]:
    """Before the server starts: stand down the plaza's crowd plan and clear its crowd warnings that the last
    evening left open, so that the next evening warns and starts the plan afresh (a zone has one open
    incident, and an open warning is counted again rather than raised; the crowd engine reads the open
    ones when it starts). Counts of each."""
    with platform.db.session() as session:
        incidents = list(session.scalars(select(Incident).where(Incident.open_key == f"crowd:{zone}")))
        for incident in incidents:
            do_stand_down_incident(session, platform, SYSTEM, incident, NOTE)
        alarms = list(session.scalars(select(Alarm.id).where(Alarm.origin == f"crowd:{zone}", OPEN_ALARM)))
        for alarm_id in alarms:
            do_clear_alarm(session, platform, SYSTEM, alarm_id, NOTE)
        # the next evening is estimated afresh, not taken up from the last one's crowd
        found = session.scalar(select(Zone).where(Zone.code == zone))
        forgot = found is not None and do_forget_estimate(session, platform, SYSTEM, found)
    platform.relay.flush()
    return {"stood_down": len(incidents), "cleared": len(alarms), "forgotten": int(forgot)}


def begin(settings: Settings) -> LightShow | None:
    """Before the demo serves: None (and one line saying why) when JuPedSim cannot be loaded; otherwise the
    evening's simulation starts in a process of its own unless it is cached, so that it runs while the
    district loads and the server starts."""
    problem = jupedsim_problem()
    if problem is not None:
        say(f"skipped, JuPedSim cannot be loaded ({problem}); `make install` installs it")
        return None
    from urbanbrain.simulate.crowd import demo  # imports JuPedSim: only once it is known to load

    data_dir = settings.data_dir
    return LightShow(data_dir, demo.simulate_apart(data_dir))


def intro_line(show: LightShow, url: str) -> str:
    """What the light show will do, printed before the server starts (the times follow once it streams)."""
    from urbanbrain.simulate.crowd import demo

    first = (
        "once JuPedSim has simulated it (the first start only: a minute or two, then it is cached)"
        if show.simulating
        else "as soon as the server is up"
    )
    return (
        f"Light show: a dangerous evening at the Civic Center plaza (zone {ZONE}) streams at "
        f"{demo.SPEED:g}x {first}: the plaza's density rises on the big screen, the forecast warning comes "
        f"some two minutes after it starts and starts the crowd plan ({url}/api/v1/linkage/incidents); the "
        "times follow below."
    )


def show_line(chosen: Evening, utc_offset_hours: int) -> str:
    """When the evening's warning, the plan and the danger will come, on the clock, with their event times
    (the district's local time)."""

    def at(ts: float) -> str:
        return datetime.fromtimestamp(ts, timezone(timedelta(hours=utc_offset_hours))).strftime("%H:%M:%S")

    parts = [
        f"light show: streaming the evening of {at(chosen.first_ts)}-{at(chosen.end_ts)} (event time, "
        f"UTC{utc_offset_hours:+d}) at {chosen.speed:g}x, until {at(chosen.sent_at(chosen.end_ts))}"
    ]
    warning, start = chosen.first_warning(), chosen.plan_start()
    for w in dict.fromkeys(w for w in (warning, start) if w is not None):
        what = "and starts the crowd plan" if w == start else ""
        when = at(chosen.sent_at(w.sent_ts))
        parts.append(f"the {w.alarm_type} warning ({w.level}) for {at(w.event_ts)} comes at {when} {what}")
    if warning is None:
        parts.append("no warning is expected")
    if chosen.danger_ts is not None:
        lead = (
            f"{(chosen.danger_ts - warning.event_ts) / 60:.1f} min after the warning's, " if warning else ""
        )
        parts.append(
            f"the true density reaches 5 persons/m² at {at(chosen.danger_ts)} ({lead}sent at "
            f"{at(chosen.sent_at(chosen.danger_ts))})"
        )
    if chosen.held_back and chosen.after is not None:
        parts.append(
            f"(the last evening's readings end at {at(chosen.after)}: this one starts after them in event "
            "time, and may not run more than 4 minutes ahead of the clock, so it waits for it)"
        )
    return "; ".join(p.strip() for p in parts)


class _QuietPath(logging.Filter):
    """Leaves out of the access log the successful answers of one path."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args  # uvicorn's: client, method, path, HTTP version, status
        if isinstance(args, tuple) and len(args) == 5 and str(args[2]).startswith(self.path):
            return not 200 <= int(str(args[4])) < 300
        return True


def _wait_until_up(client: httpx.Client) -> None:
    while True:
        try:
            if client.get("/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
