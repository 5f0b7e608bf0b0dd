"""``urbanbrain``: serve, demo, db, seed, users, audit, simulate, sensing, lake, check-plugins."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from urbanbrain.cli import crowd, devices, lake, sensing
from urbanbrain.cli.settings import settings_or_exit as _settings
from urbanbrain.core import migrate
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.config import Settings
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.demo import datahub
from urbanbrain.domains.datahub.lake import landing
from urbanbrain.simulate.crowd.command import simulate_crowd

app = typer.Typer(help="UrbanBrain, the district brain (城区大脑).", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
seed_app = typer.Typer(help="Load demo data.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
simulate_app = typer.Typer(help="Simulated activity for demos and load tests.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")
simulate_app.command("devices")(devices.simulate_devices)
simulate_app.command("crowd")(simulate_crowd)  # JuPedSim crowd scenarios (urbanbrain/simulate/crowd)
sensing_app = typer.Typer(help="Readings and early warning.", no_args_is_help=True)
app.add_typer(sensing_app, name="sensing")
sensing_app.command("work")(sensing.work)
app.add_typer(lake.app, name="lake")
classify_app = typer.Typer(
    help="The dispatch classifier: retraining from dispatchers' decisions.", no_args_is_help=True
)
app.add_typer(classify_app, name="classify")
console = Console(soft_wrap=True)  # a key or a URL is never cut across lines


def _fail(err: UrbanBrainError) -> NoReturn:
    console.print(f"[red]{err.code}[/red]: {err.render('en')} / {err.render('zh-CN')}")
    raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = _settings()
    settings.ensure_data_dir()
    migrate.upgrade(settings.resolved_database_url, revision)
    console.print(f"database at revision {migrate.current(settings.resolved_database_url)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument("-1", help="Target revision, '-1' for one step, 'base'."),
) -> None:
    """Undo migrations down to REVISION."""
    settings = _settings()
    migrate.downgrade(settings.resolved_database_url, revision)
    console.print(f"database at revision {migrate.current(settings.resolved_database_url)}")


@db_app.command("current")
def db_current() -> None:
    console.print(migrate.current(_settings().resolved_database_url) or "empty (no migrations applied)")


def _seed(platform: Platform, scale: float) -> dict[str, int] | None:
    from urbanbrain.demo.seed import do_seed_futian

    try:
        with platform.db.session() as session:
            return do_seed_futian(session, platform, SYSTEM, scale=scale)
    except UrbanBrainError as err:
        if err.code == "registry.already_seeded":
            return None
        raise


@seed_app.command("futian")
def seed_futian(
    scale: Annotated[float, typer.Option(help="Multiply counts outside Shuiwei village.")] = 1.0,
) -> None:
    """Load the Futian demo district: areas, departments, buildings, households, venues, facilities."""
    settings = _settings()
    migrate.upgrade(settings.resolved_database_url)
    platform = Platform.build(settings)
    try:
        started = time.perf_counter()
        counts = _seed(platform, scale)
        platform.relay.flush()
    finally:
        platform.close()
    if counts is None:
        console.print("the Futian district is already loaded; nothing to do")
        return
    table = Table(title=f"Futian demo district loaded in {time.perf_counter() - started:.1f} s")
    table.add_column("records")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key, f"{value:,}")
    console.print(table)


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[
        str, typer.Option(help="admin, operator, dept_handler, street_officer, grid_worker, ...")
    ],
    password: Annotated[str | None, typer.Option(help="Omit to generate one.")] = None,
    department: Annotated[str | None, typer.Option(help="Department code (for department roles).")] = None,
    area: Annotated[str | None, typer.Option(help="Street or community code (for scoped roles).")] = None,
    full_name: str = "",
) -> None:
    """Create a staff account; prints the password when it was generated."""
    from urbanbrain.core.auth.actions import do_create_user

    settings = _settings()
    platform = Platform.build(settings)
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with platform.db.session() as session:
            user = do_create_user(
                session,
                platform.clock,
                SYSTEM,
                username=username,
                password=password,
                role=role,
                full_name=full_name,
                department_code=department,
                area_code=area,
            )
            console.print(f"created user {user.username} ({user.role})")
    except UrbanBrainError as err:
        _fail(err)
    finally:
        platform.close()
    if generated:
        console.print(f"password: {password}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; exit 1 if any row was edited or deleted."""
    from urbanbrain.core.audit import verify_chain

    platform = Platform.build(_settings())
    try:
        with platform.db.session() as session:
            count, problems = verify_chain(session)
    finally:
        platform.close()
    if problems:
        for p in problems[:50]:
            console.print(f"[red]seq {p.seq}: {p.kind}[/red] {p.detail}")
        console.print(f"[red]audit chain BROKEN[/red]: {len(problems)} problem(s) in {count} rows")
        raise typer.Exit(1)
    console.print(f"audit chain intact: {count} rows verified")


DEFAULT_EVAL = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "dispatch_eval"


@classify_app.command("retrain")
def classify_retrain(
    eval_dir: Annotated[
        Path, typer.Option("--eval", help="The held evaluation set (reports no training ever sees).")
    ] = DEFAULT_EVAL,
) -> None:
    """Train a new version on the corpus and dispatchers' decisions; promote it only if it is better."""
    from urbanbrain.domains.cases.classify import retrain

    rows = retrain.load_eval(eval_dir)
    if not rows:
        console.print(
            f"[red]classify.no_eval[/red]: no evaluation set in {eval_dir} / 找不到评测集，请用 --eval 指定。"
        )
        raise typer.Exit(2)
    platform = Platform.build(_settings())
    try:
        with platform.db.session() as session:
            out = retrain.retrain(session, platform, SYSTEM, rows)
            session.commit()
        if out.promoted:
            retrain.activate(platform, out.version)
    finally:
        platform.close()
    c, a = out.scores["candidate"], out.scores["active"]
    console.print(f"version {out.version}: learned from {out.n_corrections} dispatcher decisions")
    console.print(
        f"  candidate: department accuracy {c['department_accuracy']:.1%}, auto precision "
        f"{c['auto_precision']:.1%}, triage {c['triage_rate']:.1%}"
    )
    console.print(
        f"  in service ({a['version']}): department accuracy {a['department_accuracy']:.1%}, auto precision "
        f"{a['auto_precision']:.1%}, triage {a['triage_rate']:.1%}"
    )
    console.print(
        ("[green]promoted[/green]: " if out.promoted else "kept the version in service: ") + out.reason
    )


@app.command("check-plugins")
def check_plugins(
    tests: Annotated[
        Path | None, typer.Option(help="Also require tests/<kind>/<name>/ under this folder.")
    ] = None,
) -> None:
    """Check every domain's and app's manifest and layout against the plugin contract."""
    from urbanbrain.core import plugins

    manifests = plugins.discover()
    problems = plugins.check(manifests, tests_root=tests)
    for m in manifests:
        console.print(f"{m.kind:6} {m.name:12} {m.version:8} {m.title_en}")
    if problems:
        for p in problems:
            console.print(f"[red]✗[/red] {p}")
        raise typer.Exit(1)
    console.print(f"{len(manifests)} plugin(s) follow the contract")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Default: URBANBRAIN_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: URBANBRAIN_PORT or 8000.")] = None,
    workers: int = 1,
) -> None:
    """Serve the HTTP API (migrations must be applied: `urbanbrain db upgrade`)."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "urbanbrain.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )


def _demo_credentials(platform: Platform) -> dict[str, object]:
    """Create (once) the demo's accounts with generated passwords, and write them to data_dir."""
    from urbanbrain.core.auth.actions import do_create_user
    from urbanbrain.core.models import User

    path = platform.settings.data_dir / "demo-credentials.json"
    saved: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    accounts = dict(saved.get("accounts", {}))  # type: ignore[call-overload]
    # One account per kind of user the UI serves: the centre's operator, two departments' handlers (to see
    # that each sees only its own work), the verifier, the grid worker of 水围 community, and the command centre's
    # data steward (the owner of the cases, alarms and readings datasets).
    wanted = [
        ("operator", "operator", None, None),
        ("admin", "admin", None, None),
        ("handler", "dept_handler", "urban_management", None),
        ("water", "dept_handler", "water", None),
        ("verifier", "verifier", None, None),
        ("grid", "grid_worker", None, "440304004028"),
        ("steward", "data_steward", "smart_city_office", None),
    ]
    with platform.db.session() as session:
        for username, role, dept, area in wanted:
            exists = session.scalar(select(User.id).where(User.username == username)) is not None
            if exists and username in accounts:
                continue
            password = secrets.token_urlsafe(12)
            if exists:  # the password file was lost: set a fresh one rather than keep an unknown one
                from urbanbrain.core.auth.passwords import hash_password

                user = session.scalar(select(User).where(User.username == username))
                assert user is not None
                user.password_hash = hash_password(password)
            else:
                do_create_user(
                    session,
                    platform.clock,
                    SYSTEM,
                    username=username,
                    password=password,
                    role=role,
                    department_code=dept,
                    area_code=area,
                    full_name=f"Demo {role}",
                )
            accounts[username] = {"username": username, "password": password, "role": role}
    url = f"http://{platform.settings.host}:{platform.settings.port}"
    open311 = saved.get("open311")
    if not isinstance(open311, dict) or not open311.get("api_key"):
        from urbanbrain.core.auth.actions import do_create_api_key

        with platform.db.session() as session:
            _, key = do_create_api_key(
                session, platform.clock, SYSTEM, name="demo Open311 client", scopes=["open311"]
            )
        open311 = {"api_key": key}
    open311["endpoint"] = url + "/open311/v2/"
    open311["example"] = (
        f"curl -X POST {url}/open311/v2/requests.json -d api_key={open311['api_key']} -d service_code=C0201 "
        "-d lat=22.5262 -d long=114.0665 --data-urlencode 'description=水围村路灯不亮'"
    )
    creds = {
        "url": url,
        "docs": url + "/docs",
        "token_url": url + "/api/v1/auth/token",
        "accounts": accounts,
        "open311": open311,
        "devices": devices.device_gateway_key(platform, saved),
    }
    creds.update({k: v for k, v in saved.items() if k not in creds})
    path.write_text(json.dumps(creds, indent=2, ensure_ascii=False))
    path.chmod(0o600)
    return creds


def _on_simulated_clock(settings: Settings, start: Any, replay: Callable[[Platform], Any]) -> dict[str, int]:
    """Run a replay of simulated people on a platform whose clock starts at ``start`` and moves only as the
    replay advances it; the counts of its outcome."""
    from urbanbrain.core.clock import SimulatedClock

    platform = Platform.build(settings, clock=SimulatedClock(start, speed=0))
    try:
        outcome = replay(platform)
        platform.relay.flush()
    finally:
        platform.close()
    return dict(outcome.as_dict())


def _replay_cases(settings: Settings, days: int, per_day: int, seed: int) -> dict[str, int]:
    from datetime import UTC, datetime, timedelta

    from urbanbrain.simulate import cases as simulate

    start = datetime.now(UTC) - timedelta(days=days)
    return _on_simulated_clock(
        settings, start, lambda p: simulate.replay(p, days=days, per_day=per_day, seed=seed)
    )


@simulate_app.command("cases")
def simulate_cases(
    days: Annotated[int, typer.Option(min=1, max=366, help="How many days, ending now.")] = 30,
    per_day: Annotated[int, typer.Option(min=1, max=5000, help="Reports per day on average.")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed replays the same month.")] = 1,
) -> None:
    """Replay a month of the command centre (reports, dispatch, handling, verification) ending now."""
    settings = _settings()
    migrate.upgrade(settings.resolved_database_url)
    started = time.perf_counter()
    counts = _replay_cases(settings, days, per_day, seed)
    console.print(
        f"replayed {days} days in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )


def _land_lake(settings: Settings) -> dict[str, float] | None:
    """Land every record in the district lake once, after the first replays: they ran without the data hub's
    consumers (or with them, landing only part), and the server only lands what changes after it starts."""
    marker = settings.data_dir / "lake-landed"
    if marker.exists():
        return None
    platform = Platform.build(settings)
    try:
        started = time.perf_counter()
        counts: dict[str, float] = dict(landing.rebuild(platform))
        counts["seconds"] = time.perf_counter() - started
    finally:
        platform.close()
    marker.write_text("the demo landed every record of the database in the lake once\n")
    return counts


def _replay_season(settings: Settings, days: int, seed: int, village: str) -> dict[str, int]:
    from datetime import UTC, datetime

    from urbanbrain.simulate import inspections as simulate

    start = simulate.season_start(datetime.now(UTC), days, settings.utc_offset_hours)
    return _on_simulated_clock(
        settings, start, lambda p: simulate.replay(p, village=village, days=days, seed=seed)
    )


@simulate_app.command("inspections")
def simulate_inspections(
    days: Annotated[
        int, typer.Option(min=1, max=366, help="How many days, ending at the last midnight.")
    ] = 91,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed replays the same season.")] = 1,
    village: Annotated[str, typer.Option(help="Registry code of the urban village.")] = "440304004028-V01",
) -> None:
    """Replay a season of fire-safety inspections in an urban village (hazards, rectification,
    re-inspection, overdue, escalation) ending at the last local midnight."""
    settings = _settings()
    migrate.upgrade(settings.resolved_database_url)
    started = time.perf_counter()
    try:
        counts = _replay_season(settings, days, seed, village)
    except UrbanBrainError as err:
        _fail(err)
    console.print(
        f"replayed {days} days of inspections in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )


@app.command("demo")
def demo(
    host: Annotated[str | None, typer.Option(help="Default: URBANBRAIN_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: URBANBRAIN_PORT or 8000.")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up and exit without serving.")] = False,
) -> None:
    """Set up the demo district (migrate, load Futian, create accounts) and serve it."""
    overrides: dict[str, object] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if not os.environ.get("URBANBRAIN_MQTT_URL"):
        overrides["mqtt_url"] = devices.DEMO_MQTT_URL  # the embedded broker, on a port of its own
    settings = _settings(**overrides)
    settings.ensure_data_dir()
    console.print(f"[bold]UrbanBrain demo[/bold]: data in {settings.data_dir.resolve()}")
    # first, so that JuPedSim simulates the light show (apart, at a lower priority) while the district loads
    show = None if no_serve else crowd.begin(settings)
    migrate.upgrade(settings.resolved_database_url)
    platform = Platform.build(settings)
    try:
        started = time.perf_counter()
        counts = _seed(platform, 1.0)
        if counts:
            console.print(
                f"loaded the Futian district in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            )
        creds = _demo_credentials(platform)
        with platform.db.session() as session:
            published = datahub.publish_catalog(session, platform)
        if published:
            console.print(
                f"published {len(published)} datasets in the data hub's catalog: {', '.join(published)}"
            )
        if show is not None:
            ended = crowd.end_last_evening(platform)
            if any(ended.values()):
                crowd.say(f"the last evening is closed (plans stood down: {ended['stood_down']}, warnings "
                          f"cleared: {ended['cleared']})")  # fmt: skip
        platform.relay.flush()
    finally:
        platform.close()
    from urbanbrain.simulate import cases, inspections

    check = Platform.build(settings)
    try:
        replayed = cases.already_replayed(check), inspections.already_replayed(check)
    finally:
        check.close()
    if not replayed[0]:  # once: the centre's statistics show a month of work from the first start
        started = time.perf_counter()
        counts = _replay_cases(settings, 30, 40, 1)
        console.print(
            f"replayed a month of cases in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        )
    if not replayed[1]:  # once: the fire-safety statistics and fire map show a season of inspections
        started = time.perf_counter()
        counts = _replay_season(settings, inspections.SEASON_DAYS, 1, inspections.SHUIWEI)
        console.print(
            f"replayed a season of fire-safety inspections in 水围村 in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        )
    started = time.perf_counter()
    fleet = devices.demo_devices(settings)
    if fleet:
        console.print(
            f"provisioned the fire-safety devices of 水围村 and replayed their last day in "
            f"{time.perf_counter() - started:.1f} s: " + ", ".join(f"{v:,} {k}" for k, v in fleet.items())
        )
    landed = _land_lake(settings)
    if landed:
        console.print(f"landed the district in its lake (数据湖) in {landed.pop('seconds'):.1f} s: "
                      + ", ".join(f"{v:,} {k}" for k, v in landed.items()))  # fmt: skip
    accounts = creds["accounts"]
    assert isinstance(accounts, dict)
    console.print()
    console.print(
        f"[bold green]Open {creds['url']}/[/bold green] (the command centre; /work the workbench, /m/ the citizens' "
        f"pages) or the API at {creds['docs']}, and log in as:"
    )
    for acc in accounts.values():
        console.print(
            f"  {acc['role']:9} username [bold]{acc['username']}[/bold]  password [bold]{acc['password']}[/bold]"
        )
    open311 = creds["open311"]
    assert isinstance(open311, dict)
    console.print(
        f"  Open311 GeoReport v2 at {open311['endpoint']} with api_key [bold]{open311['api_key']}[/bold]"
    )
    gateway = creds["devices"]
    assert isinstance(gateway, dict)
    mqtt_url = settings.mqtt_url or devices.DEMO_MQTT_URL
    console.print(
        f"  Sensing: devices report over MQTT to {mqtt_url.split('://')[-1]} (user gateway, password "
        f"[bold]{gateway['api_key']}[/bold]); alarms stream at {creds['url']}/api/v1/alerts/stream"
    )
    console.print(
        f"  Data hub: the catalog at {creds['url']}/work/data (the steward decides requests at /work/data/desk); "
        f"decision support and the daily brief at {creds['url']}/work/insight"
    )
    console.print(f"(saved in {settings.data_dir / 'demo-credentials.json'})")
    sys.stdout.flush()
    if no_serve:
        return
    import uvicorn

    os.environ["URBANBRAIN_MQTT_URL"] = mqtt_url  # the served app builds its own settings
    # the citizens' pages file their reports through Open311 with the demo's client key
    os.environ.setdefault("URBANBRAIN_WEB_OPEN311_KEY", str(open311["api_key"]))
    building = devices.start_live_devices(settings, str(gateway["api_key"]), mqtt_url)
    console.print(
        f"Live: the 水围村 devices report every minute over MQTT. One to two minutes after the server is up a fire "
        f"breaks out in building [bold]{building}[/bold]: the alert stream shows a smoke warning (yellow), then "
        "the confirmed fire (red) with its case, a few minutes after the server is up (the times follow "
        f"below). The fire map: {creds['url']}/api/v1/fire_safety/villages/440304004028-V01/fire-map"
    )
    if show is not None:
        admin = accounts["admin"]
        assert isinstance(admin, dict)
        show.start(settings, str(admin["password"]), str(gateway["api_key"]))
        console.print(crowd.intro_line(show, str(creds["url"])))
    uvicorn.run(
        "urbanbrain.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
    )
