"""/openapi.json says what really comes back: every operation declares its answer's shape, and the answers
FastAPI does not check itself (Open311's, rendered by hand as JSON or XML) match what is declared."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from urbanbrain.domains.cases import open311

# The live alert stream is Server-Sent Events, documented by its own route; /docs is the browser page.
NOT_JSON = {"/api/v1/alerts/stream"}
SHUIWEI = {"lat": 22.5262, "long": 114.0665}


def described(schema: dict[str, Any]) -> bool:
    """Whether a JSON schema says something about the value: a model, typed items or values, a scalar type.
    ``{}``, a bare object and ``additionalProperties: true`` (what ``dict[str, Any]`` gives) say nothing."""
    if "$ref" in schema:
        return True
    if "anyOf" in schema or "oneOf" in schema:
        return all(described(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    kind = schema.get("type")
    if kind == "array":
        return described(schema.get("items", {}))
    if kind == "object" or (kind is None and schema):
        values = schema.get("additionalProperties")
        return bool(schema.get("properties")) or (isinstance(values, dict) and described(values))
    return kind is not None


def undeclared(spec: dict[str, Any]) -> list[str]:
    """The operations whose success answers have no body, or a body whose schema says nothing."""
    out = []
    for path, operations in spec["paths"].items():
        if path in NOT_JSON or path.startswith("/docs"):
            continue
        for method, op in operations.items():
            bodies = [
                body.get("schema", {})
                for code, answer in op["responses"].items()
                if code.startswith("2")
                for body in answer.get("content", {}).values()
            ]
            if not bodies or not all(described(b) for b in bodies):
                out.append(f"{method.upper()} {path}")
    return out


def test_every_operation_declares_what_it_answers(api):
    spec = api.client.get("/openapi.json").json()
    assert undeclared(spec) == []


def _answering(schema: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"responses": {"200": {"content": {"application/json": {"schema": schema}}}}}}


def test_the_checker_refuses_a_route_without_a_response_model():
    untyped = {"type": "object", "additionalProperties": True}  # what -> dict[str, Any] publishes
    spec = {
        "paths": {
            "/a": _answering(untyped),
            "/b": _answering({}),
            "/c": {"get": {"responses": {"200": {"description": "no body"}}}},
            "/d": _answering({"type": "array", "items": untyped}),
            "/e": _answering({"$ref": "#/components/schemas/CasePublic"}),
            "/f": _answering({"type": "object", "additionalProperties": {"type": "string"}}),
        }
    }
    assert undeclared(spec) == ["GET /a", "GET /b", "GET /c", "GET /d"]


def test_case_shapes_are_published_and_no_two_models_share_a_name(api):
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    assert {"CasePublic", "HistoryPublic", "CaseDetail"} <= set(schemas)
    history = schemas["CaseDetail"]["properties"]["history"]
    assert history["items"] == {"$ref": "#/components/schemas/HistoryPublic"}
    # Two models of one name are published under their module paths (urbanbrain__apps__..._Name).
    assert [name for name in schemas if name.startswith("urbanbrain__")] == []


def test_open311_answers_match_their_declared_models(api):
    """Open311 routes render their JSON by hand, so FastAPI checks nothing: each answer is validated against
    the model its route declares, and must come back unchanged (no field missing from the model)."""
    routes = {
        (method, r.path): r
        for r in open311.router.routes
        if isinstance(r, APIRoute) and 200 in r.responses
        for method in r.methods
    }
    key = api.client.post(
        "/api/v1/auth/api-keys", headers=api.user("admin"), json={"name": "311 app", "scopes": ["open311"]}
    ).json()["key"]
    case = api.client.post(
        "/api/v1/cases",
        headers=api.user("operator"),
        json={
            "description": "水围村路口垃圾堆了两天没人清理",
            "category_code": "E0101",
            "lon": SHUIWEI["long"],
            "lat": SHUIWEI["lat"],
        },
    ).json()
    assert case["number"], case
    values = {
        "fmt": "json",
        "service_code": "E0101",
        "service_request_id": case["number"],
        "token": case["token"],
    }
    for (method, path), route in sorted(routes.items()):
        url = "/open311/v2" + path.format(**values)
        form = {"api_key": key, "service_code": "E0101", "description": "井盖缺失", **SHUIWEI}
        r = api.client.post(url, data=form) if method == "POST" else api.client.get(url)
        assert r.status_code == 200, (url, r.text)
        adapter: TypeAdapter[Any] = TypeAdapter(route.responses[200]["model"])
        body = r.json()
        assert body, url
        again = adapter.dump_python(adapter.validate_python(body), mode="json", exclude_unset=True)
        assert again == body, url
    assert len(routes) == 9  # discovery, services, a definition, post, list, updates twice, one, token
