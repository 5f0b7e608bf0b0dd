"""IoT fire warning (智慧用电与烟感预警) for urban villages: the device types and the alarm rules, as data,
installed through the sensing platform's public actions.

Defaults follow the national standard for electrical-fire monitoring (GB 14287.2): a residual-current alarm
at 300 mA and a cable-temperature alarm at 70 °C. A *fault* (a sensor reading nonsense, or silent) is told
apart from a *fire risk*: faults are blue and open no case. One smoke detector alone is a yellow warning to
the owner and the station; only smoke together with a temperature rise in the same building within two
minutes is a confirmed fire (red), which opens a fire case and calls out a crew.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.domains.sensing import actions as sensing
from urbanbrain.domains.sensing.schemas import DeviceTypeCreate, RuleCreate

RESIDUAL_CURRENT_MA = 300.0
CABLE_TEMP_C = 70.0
SMOKE_OBSCURATION = 3.0  # %/m: a detector's usual alarm point is 2-4 %/m
TEMP_RISE_PER_MIN = 5.0  # °C a minute: a fixed-rate heat detector's class A1 rise is 5-10 °C/min
CONFIRM_WITHIN_MIN = 2.0

DEVICE_TYPES: list[dict[str, Any]] = [
    {
        "code": "electrical_fire_monitor",
        "name_zh": "电气火灾监控探测器",
        "name_en": "Electrical-fire monitor",
        "measurements": [
            {
                "name": "residual_current_ma",
                "unit": "mA",
                "zh": "剩余电流",
                "en": "Residual current",
                "min": 0.0,
                "max": 3000.0,
            },
            {
                "name": "cable_temp_c",
                "unit": "°C",
                "zh": "线缆温度",
                "en": "Cable temperature",
                "min": -30.0,
                "max": 300.0,
            },
        ],
    },
    {
        "code": "smoke_detector",
        "name_zh": "独立式感烟探测器",
        "name_en": "Smoke detector",
        "measurements": [
            {
                "name": "smoke_obscuration",
                "unit": "%/m",
                "zh": "减光率",
                "en": "Smoke obscuration",
                "min": 0.0,
                "max": 100.0,
            },
            {"name": "temp_c", "unit": "°C", "zh": "温度", "en": "Temperature", "min": -30.0, "max": 300.0},
        ],
    },
    {
        "code": "temp_sensor",
        "name_zh": "感温探测器",
        "name_en": "Heat detector",
        "measurements": [
            {"name": "temp_c", "unit": "°C", "zh": "温度", "en": "Temperature", "min": -30.0, "max": 300.0}
        ],
    },
]

_EFM = "electrical_fire_monitor"
RULES: list[dict[str, Any]] = [
    {
        "code": "fire.residual_current",
        "description": "剩余电流 ≥ 300 mA（漏电，线路老化）/ Residual current at or above 300 mA",
        "case_category": "E0703",
        "spec": {
            "kind": "threshold",
            "device_type": _EFM,
            "measurement": "residual_current_ma",
            "op": ">=",
            "value": RESIDUAL_CURRENT_MA,
            "clear_value": 250.0,
            "alarm_type": "residual_current",
            "severity": "major",
            "level": "orange",
        },
    },
    {
        "code": "fire.cable_overheat",
        "description": "线缆温度连续两次 ≥ 70 °C / Cable at or above 70 °C twice in a row",
        "case_category": "E0703",
        "spec": {
            "kind": "repeat",
            "device_type": _EFM,
            "measurement": "cable_temp_c",
            "op": ">=",
            "value": CABLE_TEMP_C,
            "clear_value": 60.0,
            "count": 2,
            "alarm_type": "cable_overheat",
            "severity": "major",
            "level": "orange",
        },
    },
    {
        "code": "fire.cable_overheat_forecast",
        "description": "按趋势 10 分钟内将达 70 °C / Cable projected to reach 70 °C within 10 minutes",
        "spec": {
            "kind": "forecast",
            "device_type": _EFM,
            "measurement": "cable_temp_c",
            "op": ">=",
            "value": CABLE_TEMP_C,
            "horizon_minutes": 10.0,
            "window_minutes": 2.0,
            "alarm_type": "cable_overheat_forecast",
            "severity": "warning",
            "level": "yellow",
        },
    },
    {
        "code": "fire.sensor_fault",
        "description": "读数超出量程（传感器故障，非火情）/ Reading out of range: a sensor fault, not a fire",
        "spec": {  # any device: the pipeline turns readings outside a measuring range into sensor_fault = 1
            "kind": "threshold",
            "measurement": "sensor_fault",
            "op": ">=",
            "value": 1.0,
            "alarm_type": "sensor_fault",
            "severity": "minor",
            "level": "blue",
        },
    },
    {
        "code": "fire.monitor_offline",
        "description": "15 分钟无数据（离线）/ No data for 15 minutes",
        "spec": {
            "kind": "absence",
            "device_type": _EFM,
            "measurement": "cable_temp_c",
            "minutes": 15.0,
            "alarm_type": "offline",
            "severity": "minor",
            "level": "blue",
        },
    },
    {
        "code": "fire.smoke",
        "description": "烟感报警（单一探测器）/ One smoke detector in alarm",
        "spec": {
            "kind": "threshold",
            "device_type": "smoke_detector",
            "measurement": "smoke_obscuration",
            "op": ">=",
            "value": SMOKE_OBSCURATION,
            "clear_value": 1.0,
            "alarm_type": "smoke",
            "severity": "major",
            "level": "yellow",
        },
    },
    {
        "code": "fire.temp_rise",
        "description": "温升 ≥ 5 °C/分钟 / Temperature rising 5 °C a minute or faster",
        "spec": {
            "kind": "rate",
            "measurement": "temp_c",
            "op": ">=",
            "value": TEMP_RISE_PER_MIN,
            "clear_value": 1.0,
            "alarm_type": "temp_rise",
            "severity": "major",
            "level": "yellow",
        },
    },
    {
        "code": "fire.confirmed",
        "description": "同一楼栋烟感 + 温升（2 分钟内）：确认火情 / Smoke and a temperature rise in one building",
        "case_category": "E0701",
        "spec": {
            "kind": "composite",
            "parts": ["fire.smoke", "fire.temp_rise"],
            "within_minutes": CONFIRM_WITHIN_MIN,
            "alarm_type": "fire",
            "severity": "critical",
            "level": "red",
        },
    },
]


def do_install_fire_monitoring(session: Session, platform: Platform, actor: Principal) -> dict[str, int]:
    """Device types and rules for IoT fire warning; running it again puts back the defaults."""
    for t in DEVICE_TYPES:
        sensing.do_save_device_type(session, platform, actor, DeviceTypeCreate(**t))
    for r in RULES:
        sensing.do_save_rule(session, platform, actor, RuleCreate(**r))
    return {"device_types": len(DEVICE_TYPES), "rules": len(RULES)}
