"""Settings, read from ``URBANBRAIN_*`` environment variables (12-factor style)."""

from __future__ import annotations

import os
import secrets
import time
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment may change. Defaults give the embedded mode: SQLite, in-process bus."""

    model_config = SettingsConfigDict(env_prefix="URBANBRAIN_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Where SQLite, keys, photos and the lake live.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")
    bus_url: str = Field(default="memory://", description="memory:// or nats://host:port (JetStream).")
    host: str = "127.0.0.1"
    port: int = 8000
    district_code: str = "440304"
    secret_key: str | None = Field(
        default=None, description="Signs tokens; default: generated into data_dir."
    )
    pii_key: str | None = Field(default=None, description="Encrypts protected fields; default: generated.")
    token_minutes: int = 8 * 60
    clock: str = Field(default="real", description="'real' or 'simulated:<ISO start>:<speed>'.")
    log_level: str = "info"
    work_periods: str = Field(default="09:00-12:00,14:00-18:00", description="Working hours, local time.")
    work_weekdays: str = Field(default="1-5", description="Working weekdays, 1 = Monday.")
    utc_offset_hours: int = Field(default=8, description="The district's offset from UTC (China: 8).")
    worker_seconds: float = Field(default=5.0, description="Background sweeps (SLA, deliveries); 0 = off.")
    smtp_url: str | None = Field(default=None, description="smtp://host:port for e-mail notifications.")
    smtp_from: str = "urbanbrain@localhost"
    sms_gateway_url: str | None = Field(default=None, description="HTTP endpoint taking {to, text} as JSON.")
    sensing_case_level: str = Field(
        default="orange", description="Alarms at this warning level or above open a case."
    )
    sensing_notify_level: str = Field(default="yellow", description="...and tell the owner and the station.")
    sensing_max_pending: int = Field(
        default=1_000_000, description="Readings taken but not yet processed; more: 429."
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
