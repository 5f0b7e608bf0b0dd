"""Settings, read from ``URBANBRAIN_*`` environment variables (12-factor style).

Every value is checked when the settings are read, so a typo (``URBANBRAIN_SENSING_CASE_LEVEL=ornage``) stops
the process at start with a message naming the variable, instead of quietly turning a feature off."""

from __future__ import annotations

import math
import os
import re
import secrets
import time
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from urbanbrain.core.levels import Level

ENV_PREFIX = "URBANBRAIN_"
LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]  # uvicorn's
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class Settings(BaseSettings):
    """Everything a deployment may change. Defaults give the embedded mode: SQLite, in-process bus."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where SQLite, keys, photos and the lake live.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")
    bus_url: str = Field(default="memory://", description="memory:// or nats://host:port (JetStream).")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    district_code: str = "440304"
    gazetteer: Path | None = Field(
        default=None,
        description="Place names for addresses in words (landmarks, common names, aliases), a TOML file; "
        "default: the Futian gazetteer shipped with the demo district.",
    )
    secret_key: str | None = Field(
        default=None, description="Signs tokens; default: generated into data_dir."
    )
    pii_key: str | None = Field(default=None, description="Encrypts protected fields; default: generated.")
    token_minutes: int = Field(default=8 * 60, gt=0)
    clock: str = Field(default="real", description="'real' or 'simulated:<ISO start>:<speed>'.")
    log_level: LogLevel = "info"
    work_periods: str = Field(default="09:00-12:00,14:00-18:00", description="Working hours, local time.")
    work_weekdays: str = Field(default="1-5", description="Working weekdays, 1 = Monday.")
    utc_offset_hours: int = Field(
        default=8, ge=-12, le=14, description="The district's offset from UTC (China: 8)."
    )
    worker_seconds: float = Field(
        default=5.0, ge=0, description="Background sweeps (SLA, deliveries); 0 = off."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where citizens reach this server: links in the messages sent to them start with it.",
    )
    web_open311_key: str | None = Field(
        default=None,
        description="The Open311 API key (scope open311) the citizens' pages file reports with; unset: the "
        "report page says reporting online is not open. `urbanbrain demo` sets the demo's.",
    )
    map_tile_url: str | None = Field(
        default=None,
        description="An XYZ raster tile URL ({z}/{x}/{y}) drawn under the map's layers, in the registry's "
        "datum (docs/operations.md); unset: the map draws only the registry's own shapes.",
    )
    smtp_url: str | None = Field(default=None, description="smtp://host:port for e-mail notifications.")
    smtp_from: str = "urbanbrain@localhost"
    sms_gateway_url: str | None = Field(default=None, description="HTTP endpoint taking {to, text} as JSON.")
    sensing_case_level: Level = Field(
        default="orange", description="Alarms at this warning level or above open a case."
    )
    sensing_notify_level: Level = Field(
        default="yellow", description="...and tell the owner and the station."
    )
    sensing_max_pending: int | None = Field(
        default=None,
        gt=0,
        description="Readings taken but not yet processed; more: 429. Default: sized to the memory "
        "(see pending_readings_for_memory).",
    )
    sensing_max_age_days: float = Field(
        default=7.0, gt=0, description="A reading older than this (event time) is refused as too_old."
    )
    sensing_checkpoint_seconds: float = Field(
        default=2.0, description="How often the lake and state are saved."
    )
    sensing_journal_fsync: bool = Field(
        default=True, description="fsync each journal write before acknowledging."
    )
    sensing_allowed_lateness_s: float = Field(
        default=60.0, description="How late a reading may come (event time)."
    )
    sensing_raw_days: int = Field(default=90, description="Days of raw readings kept in the lake.")
    sensing_rollup_days: int = Field(default=730, description="Days of per-minute rollups kept in the lake.")
    mqtt_url: str | None = Field(
        default=None,
        description="mqtt://user:pass@host:port to take readings from a broker; 'embedded' runs one.",
    )
    mqtt_shared_group: str | None = Field(default=None, description="Share the subscription among workers.")
    sensing_stream_url: str | None = Field(
        default=None,
        description="nats://host:port: doors send readings through JetStream, partitioned by building, "
        "to the workers that own the partitions (scale-out); unset: this process takes them itself.",
    )
    sensing_partitions: int = Field(default=16, ge=1, le=1024, description="Partitions of the readings.")
    sensing_owned_partitions: str = Field(
        default="all", description="The partitions this process works on: all, none, or e.g. 0-3,8."
    )

    # -- checks: each says what is allowed; ``problems()`` puts the variable's name before it ----------------

    @field_validator(
        "database_url", "secret_key", "pii_key", "smtp_url", "sms_gateway_url", "mqtt_url",
        "sensing_stream_url", "mqtt_shared_group", mode="before",
    )  # fmt: skip
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # ``URBANBRAIN_MQTT_URL=`` (set, but empty) has always meant "not set": the code tests for truth.
        return None if value == "" else value

    @field_validator("bus_url")
    @classmethod
    def _bus_url(cls, value: str) -> str:
        if value.startswith("memory://") or _url(value, ("nats",)):
            return value
        raise ValueError("use memory:// (in this process) or nats://host:port (NATS JetStream)")

    @field_validator("sensing_stream_url")
    @classmethod
    def _stream_url(cls, value: str | None) -> str | None:
        if value is None or _url(value, ("nats",)):
            return value
        raise ValueError("use nats://host:port (NATS JetStream), or leave it unset")

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        if value is None or value == "embedded" or _url(value, ("mqtt", "embedded")):
            return value
        raise ValueError(
            "use mqtt://[user:password@]host:port (a broker such as Mosquitto), embedded or "
            "embedded://host:port (a broker in this process), or leave it unset"
        )

    @field_validator("pii_key")
    @classmethod
    def _pii_key(cls, value: str | None) -> str | None:
        if value is None or re.fullmatch(r"[0-9a-fA-F]{64}", value):
            return value
        raise ValueError(
            "use 64 hexadecimal characters (32 bytes, e.g. from `openssl rand -hex 32`), or leave it unset "
            "to have one generated into <data_dir>/keys/pii-key"
        )

    @field_validator("clock")
    @classmethod
    def _clock(cls, value: str) -> str:
        if value == "real":
            return value
        start, _, speed = value.removeprefix("simulated:").rpartition(":")
        try:
            at, rate = datetime.fromisoformat(start), float(speed)
        except ValueError:
            at, rate = None, -1.0
        starts = value.startswith("simulated:") and at is not None and at.tzinfo is not None
        if starts and math.isfinite(rate) and rate >= 0:
            return value
        raise ValueError(
            "use real, or simulated:<ISO start with its UTC offset>:<speed, 0 or more>, "
            "e.g. simulated:2018-07-09T08:00:00+08:00:60"
        )

    @field_validator("work_weekdays")
    @classmethod
    def _weekdays(cls, value: str) -> str:
        for part in value.split(","):
            found = re.fullmatch(r"([1-7])(?:-([1-7]))?", part.strip())
            if found is None or found[1] > (found[2] or found[1]):
                raise ValueError(
                    f"{part!r} is not a weekday or a range of them: use 1 (Monday) to 7 (Sunday), "
                    "as in 1-5 or 1,2,3,6"
                )
        return value

    @field_validator("work_periods")
    @classmethod
    def _periods(cls, value: str) -> str:
        for part in value.split(","):
            start, _, end = part.strip().partition("-")
            # zero-padded HH:MM strings compare as the times do
            if not (_HHMM.fullmatch(start) and _HHMM.fullmatch(end) and start < end):
                raise ValueError(
                    f"{part!r} is not a working period: use HH:MM-HH:MM, the start before the end, "
                    "as in 09:00-12:00,14:00-18:00"
                )
        return value

    @field_validator("sensing_owned_partitions")
    @classmethod
    def _owned_syntax(cls, value: str) -> str:
        # The syntax of sensing's ``partition.parse_owned`` (core imports no domain); ranges: below.
        if _highest_partition(value) is None:
            raise ValueError("use all, none, or partition numbers and ranges such as 0-3,8")
        return value

    @model_validator(mode="after")
    def _fit_together(self) -> Settings:
        highest = _highest_partition(self.sensing_owned_partitions)
        if highest is not None and highest >= self.sensing_partitions:
            raise ValueError(
                f"{ENV_PREFIX}SENSING_OWNED_PARTITIONS={self.sensing_owned_partitions!r} names partition "
                f"{highest}, but {ENV_PREFIX}SENSING_PARTITIONS={self.sensing_partitions} allows only 0 to "
                f"{self.sensing_partitions - 1}: use all, none, or numbers and ranges within them"
            )
        if self.sensing_stream_url and not self.bus_url.startswith("nats://"):
            raise ValueError(
                f"{ENV_PREFIX}SENSING_STREAM_URL is set (scaled out), so {ENV_PREFIX}BUS_URL must be "
                "nats://host:port: the processes share their events (alarms, cases, notifications) through "
                f"NATS, and {self.bus_url} keeps them inside one process"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'urbanbrain.sqlite3').resolve()}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def _key_file(self, name: str, nbytes: int) -> str:
        """Read or create a random key file, so a fresh install never runs on a known default secret."""
        path = self.ensure_data_dir() / "keys" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: of several workers starting at once, exactly one creates the key, the rest read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            for _ in range(50):
                value = path.read_text().strip()
                if value:
                    return value
                time.sleep(0.01)  # the creator has not written it yet
            raise RuntimeError(f"key file {path} is empty") from None
        value = secrets.token_hex(nbytes)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        return value

    @cached_property
    def signing_key(self) -> str:
        return self.secret_key or self._key_file("token-secret", 32)

    @cached_property
    def protection_key(self) -> bytes:
        return bytes.fromhex(self.pii_key or self._key_file("pii-key", 32))


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


def problems(err: ValidationError) -> list[str]:
    """One line per problem of a :class:`ValidationError` from :class:`Settings`, naming the environment
    variable, the value (secrets hidden) and what is allowed: what the command line prints at start."""
    lines = []
    for e in err.errors():
        message = str(e.get("msg", "not valid")).removeprefix("Value error, ")
        field = str(e["loc"][0]) if e.get("loc") else ""
        if not field:  # a check of several settings together names them itself
            lines.append(message)
            continue
        name = ENV_PREFIX + field.upper()
        value = e.get("input")
        if field in ("secret_key", "pii_key") or not isinstance(value, str | int | float):
            lines.append(f"{name}: {message}")
        else:
            lines.append(f"{name}={_hide_password(str(value))!r}: {message}")
    return lines


def _url(value: str, schemes: tuple[str, ...]) -> SplitResult | None:
    """``value`` split, when it is ``<scheme>://host[:port]...`` with one of ``schemes``, else None."""
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when not a number within 0..65535
    except ValueError:
        return None
    if parts.scheme not in schemes or not parts.hostname or port == 0 and parts.scheme != "embedded":
        return None
    return parts


def _hide_password(value: str) -> str:
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", value)


def _highest_partition(spec: str) -> int | None:
    """The highest partition ``spec`` names (-1 for all or none), or None when it cannot be read."""
    text = spec.strip().lower()
    if text in ("", "all", "none"):
        return -1
    highest = -1
    for part in text.split(","):
        found = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", part.strip())
        if found is None or int(found[1]) > int(found[2] or found[1]):
            return None
        highest = max(highest, int(found[2] or found[1]))
    return highest


BYTES_PER_PENDING_READING = 500  # measured: body, journal record, parsed columns and ids of one reading


def total_memory_bytes() -> int:
    """The memory this process may use: its cgroup's limit when it has one (a container), else the machine's."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            return int(limit)
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError):
        return 4 << 30


def pending_readings_for_memory(total: int | None = None) -> int:
    """The default limit of readings waiting between acknowledgement and processing: what 1/32 of the memory
    holds (between 32 and 256 MiB of it), so a burst is answered 429 before it takes the memory."""
    budget = min(max((total or total_memory_bytes()) // 32, 32 << 20), 256 << 20)
    return budget // BYTES_PER_PENDING_READING
