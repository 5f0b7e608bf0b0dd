"""Settings from the environment: a typo stops the process at start with a line naming the variable and
what it may be, instead of quietly turning a feature off; good values and the defaults still load."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from urbanbrain.cli.main import app
from urbanbrain.core.config import Settings, problems


@pytest.fixture(autouse=True)
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No URBANBRAIN_* variable from the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith("URBANBRAIN_"):
            monkeypatch.delenv(name)
    return monkeypatch


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    """The lines a start with these variables prints."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    return problems(caught.value)


def test_the_defaults_load() -> None:
    s = Settings()
    assert (s.sensing_case_level, s.sensing_notify_level) == ("orange", "yellow")
    assert (s.bus_url, s.mqtt_url, s.clock, s.log_level, s.port) == ("memory://", None, "real", "info", 8000)
    assert (s.work_weekdays, s.work_periods, s.sensing_owned_partitions) == (
        "1-5",
        "09:00-12:00,14:00-18:00",
        "all",
    )


GOOD = {
    "URBANBRAIN_SENSING_CASE_LEVEL": "red",
    "URBANBRAIN_SENSING_NOTIFY_LEVEL": "blue",
    "URBANBRAIN_WORK_WEEKDAYS": "1-3,6",
    "URBANBRAIN_WORK_PERIODS": "08:30-12:00, 13:30-17:30",
    "URBANBRAIN_UTC_OFFSET_HOURS": "-5",
    "URBANBRAIN_CLOCK": "simulated:2018-07-09T08:00:00+08:00:60",
    "URBANBRAIN_BUS_URL": "nats://127.0.0.1:4222?stream=UB&prefix=test.",
    "URBANBRAIN_SENSING_STREAM_URL": "nats://127.0.0.1:4222?namespace=staging",
    "URBANBRAIN_SENSING_PARTITIONS": "8",
    "URBANBRAIN_SENSING_OWNED_PARTITIONS": "0-3,7",
    "URBANBRAIN_MQTT_URL": "mqtt://urbanbrain:p%40ss@mqtt-host:1883",
    "URBANBRAIN_LOG_LEVEL": "warning",
    "URBANBRAIN_PORT": "65535",
    "URBANBRAIN_TOKEN_MINUTES": "1",
    "URBANBRAIN_WORKER_SECONDS": "0",
    "URBANBRAIN_SENSING_MAX_PENDING": "1",
    "URBANBRAIN_PII_KEY": "ab" * 32,
}


def test_good_values_load(bare_environment: pytest.MonkeyPatch) -> None:
    for name, value in GOOD.items():
        bare_environment.setenv(name, value)
    s = Settings()
    assert (s.sensing_case_level, s.sensing_notify_level, s.utc_offset_hours) == ("red", "blue", -5)
    assert s.sensing_owned_partitions == "0-3,7" and s.sensing_partitions == 8
    assert s.mqtt_url == GOOD["URBANBRAIN_MQTT_URL"] and s.log_level == "warning"


@pytest.mark.parametrize(
    "url", ["embedded", "embedded://127.0.0.1:1884", "embedded://127.0.0.1:0", "mqtt://mosquitto"]
)
def test_every_kind_of_mqtt_door_loads(bare_environment: pytest.MonkeyPatch, url: str) -> None:
    bare_environment.setenv("URBANBRAIN_MQTT_URL", url)
    assert Settings().mqtt_url == url


def test_a_variable_set_empty_counts_as_unset(bare_environment: pytest.MonkeyPatch) -> None:
    bare_environment.setenv("URBANBRAIN_MQTT_URL", "")
    bare_environment.setenv("URBANBRAIN_SENSING_STREAM_URL", "")
    s = Settings()
    assert s.mqtt_url is None and s.sensing_stream_url is None


# (variable, bad value, a piece of what the message says is allowed)
BAD = [
    ("URBANBRAIN_SENSING_CASE_LEVEL", "ornage", "'orange'"),
    ("URBANBRAIN_SENSING_NOTIFY_LEVEL", "Yellow", "'yellow'"),
    ("URBANBRAIN_SENSING_OWNED_PARTITIONS", "0-3;8", "such as 0-3,8"),
    ("URBANBRAIN_SENSING_OWNED_PARTITIONS", "5-2", "such as 0-3,8"),
    ("URBANBRAIN_WORK_WEEKDAYS", "1-8", "1 (Monday) to 7 (Sunday)"),
    ("URBANBRAIN_WORK_WEEKDAYS", "mon-fri", "1 (Monday) to 7 (Sunday)"),
    ("URBANBRAIN_WORK_PERIODS", "14:00-12:00", "the start before the end"),
    ("URBANBRAIN_WORK_PERIODS", "9-12", "HH:MM-HH:MM"),
    ("URBANBRAIN_WORK_PERIODS", "09:00-24:30", "HH:MM-HH:MM"),
    ("URBANBRAIN_UTC_OFFSET_HOURS", "15", "less than or equal to 14"),
    ("URBANBRAIN_UTC_OFFSET_HOURS", "-13", "greater than or equal to -12"),
    ("URBANBRAIN_CLOCK", "fake", "simulated:<ISO start"),
    ("URBANBRAIN_CLOCK", "simulated:2018-07-09T08:00:00:60", "with its UTC offset"),  # no offset
    ("URBANBRAIN_CLOCK", "simulated:2018-07-09T08:00:00+08:00:-1", "0 or more"),
    ("URBANBRAIN_BUS_URL", "nats:/127.0.0.1:4222", "nats://host:port"),
    ("URBANBRAIN_BUS_URL", "redis://127.0.0.1", "memory://"),
    ("URBANBRAIN_MQTT_URL", "tcp://broker:1883", "mqtt://[user:password@]host:port"),
    ("URBANBRAIN_MQTT_URL", "mqtt://broker:99999", "mqtt://[user:password@]host:port"),
    ("URBANBRAIN_SENSING_STREAM_URL", "127.0.0.1:4222", "nats://host:port"),
    ("URBANBRAIN_LOG_LEVEL", "verbose", "'debug'"),
    ("URBANBRAIN_PORT", "0", "greater than or equal to 1"),
    ("URBANBRAIN_PORT", "70000", "less than or equal to 65535"),
    ("URBANBRAIN_TOKEN_MINUTES", "0", "greater than 0"),
    ("URBANBRAIN_WORKER_SECONDS", "-1", "greater than or equal to 0"),
    ("URBANBRAIN_SENSING_MAX_PENDING", "0", "greater than 0"),
    ("URBANBRAIN_PII_KEY", "not-hex", "64 hexadecimal characters"),
]


@pytest.mark.parametrize(("name", "value", "allowed"), BAD)
def test_a_bad_value_is_refused_naming_its_variable(
    bare_environment: pytest.MonkeyPatch, name: str, value: str, allowed: str
) -> None:
    [line] = refusal(bare_environment, **{name: value})
    assert line.startswith(name)
    assert allowed in line


def test_every_bad_value_is_reported_at_once(bare_environment: pytest.MonkeyPatch) -> None:
    lines = refusal(bare_environment, URBANBRAIN_SENSING_CASE_LEVEL="ornage", URBANBRAIN_WORK_WEEKDAYS="0-4")
    assert [line.split("=")[0] for line in lines] == [
        "URBANBRAIN_WORK_WEEKDAYS",
        "URBANBRAIN_SENSING_CASE_LEVEL",
    ]


def test_owned_partitions_must_exist(bare_environment: pytest.MonkeyPatch) -> None:
    [line] = refusal(
        bare_environment, URBANBRAIN_SENSING_PARTITIONS="4", URBANBRAIN_SENSING_OWNED_PARTITIONS="0-3,8"
    )
    assert "URBANBRAIN_SENSING_OWNED_PARTITIONS" in line and "URBANBRAIN_SENSING_PARTITIONS=4" in line
    assert "0 to 3" in line


def test_scaling_out_needs_the_events_on_nats(bare_environment: pytest.MonkeyPatch) -> None:
    [line] = refusal(bare_environment, URBANBRAIN_SENSING_STREAM_URL="nats://127.0.0.1:4222")
    assert "URBANBRAIN_SENSING_STREAM_URL" in line and "URBANBRAIN_BUS_URL must be nats://" in line


def test_secrets_stay_out_of_the_message(bare_environment: pytest.MonkeyPatch) -> None:
    [key_line] = refusal(bare_environment, URBANBRAIN_PII_KEY="my-secret-key")
    assert "my-secret-key" not in key_line
    bare_environment.delenv("URBANBRAIN_PII_KEY")
    [url_line] = refusal(bare_environment, URBANBRAIN_BUS_URL="nats://ops:hunter2@nats-host:x")
    assert "hunter2" not in url_line and "nats://ops:***@nats-host:x" in url_line


def test_the_command_line_prints_one_line_per_problem_and_exits_2(
    bare_environment: pytest.MonkeyPatch,
) -> None:
    env = {"URBANBRAIN_SENSING_CASE_LEVEL": "ornage", "URBANBRAIN_PORT": "99999"}
    result = CliRunner().invoke(app, ["db", "current"], env=env)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "urbanbrain: URBANBRAIN_PORT='99999': Input should be less than or equal to 65535",
        "urbanbrain: URBANBRAIN_SENSING_CASE_LEVEL='ornage': Input should be 'blue', 'yellow', "
        "'orange' or 'red'",
    ]
    assert "Traceback" not in result.output
