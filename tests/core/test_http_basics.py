"""Errors are {code, message} in Chinese and English, never a stack trace; health, metrics, introspection."""


def test_unknown_route_is_json_404(empty_api):
    r = empty_api.client.get("/api/v1/nowhere")
    assert r.status_code == 404
    assert r.json()["code"] == "route.not_found"
    assert set(r.json()["messages"]) == {"zh-CN", "en"}


def test_validation_error_is_422_with_a_readable_sentence_in_the_asked_language(api):
    headers = api.user("admin")
    headers["Accept-Language"] = "zh-CN,zh;q=0.9"
    r = api.client.post("/api/v1/registry/buildings", headers=headers, json={"code": "X"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "request.invalid"
    assert body["message"].startswith("请求内容不合法")
    assert "name" in body["messages"]["en"]
    assert any(d["loc"][-1] == "floors" for d in body["detail"])


def test_malformed_json_is_400(api):
    headers = api.user("admin") | {"Content-Type": "application/json"}
    r = api.client.post("/api/v1/registry/buildings", headers=headers, content=b"{not json")
    assert r.status_code == 400
    assert r.json()["code"] == "request.malformed"


def test_healthz_reports_database_and_outbox(empty_api):
    r = empty_api.client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["checks"]["database"] == "ok"


def test_metrics_in_prometheus_text_format(empty_api):
    empty_api.client.get("/healthz")
    r = empty_api.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert 'urbanbrain_http_requests_total{method="GET",route="/healthz",status="200"}' in r.text


def test_openapi_docs_are_served_offline(empty_api):
    page = empty_api.client.get("/docs")
    assert page.status_code == 200 and "/-/static/docs/swagger-ui-bundle.js" in page.text
    js = empty_api.client.get("/-/static/docs/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    spec = empty_api.client.get("/openapi.json").json()
    assert "/api/v1/registry/buildings" in spec["paths"]
    assert "/api/v1/auth/token" in spec["paths"]


def test_plugins_introspection(empty_api):
    plugins = empty_api.client.get("/-/plugins").json()
    registry = next(p for p in plugins if p["name"] == "registry")
    assert registry["title"]["zh-CN"].startswith("城区基础信息")
    assert "registry.building.created" in registry["events"]
    assert empty_api.client.get("/-/versions").json()["database"] in ("sqlite", "postgresql")


# --- what the outside test found (issue 14) ---------------------------------------------------------------


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_a_body_nested_a_thousand_deep_is_a_clear_400_not_a_server_error(api):
    headers = api.user("admin") | {"Content-Type": "application/json"}
    body = b'{"code": "X", "name": ' + _nested(1000) + b"}"
    r = api.client.post("/api/v1/registry/buildings", headers=headers, content=body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "request.too_deep"
    assert "64" in r.json()["messages"]["en"] and "64" in r.json()["messages"]["zh-CN"]


def test_an_id_past_64_bits_is_refused_with_422_on_every_kind_of_route(api):
    headers = api.user("admin")
    for path in (
        "/api/v1/sensing/alarms/9223372036854775808",
        "/api/v1/cases/9223372036854775808",
        "/api/v1/fire_safety/hazards/99999999999999999999",
    ):
        r = api.client.get(path, headers=headers)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["code"] == "request.invalid"
    # One below the limit is an ordinary id that does not exist.
    assert api.client.get("/api/v1/sensing/alarms/9223372036854775807", headers=headers).status_code == 404


def test_a_number_is_not_a_date_time(api):
    headers = api.user("admin")
    r = api.client.get("/api/v1/cases/statistics", params={"to": "0.5"}, headers=headers)
    assert r.status_code == 422
    assert "ISO 8601" in r.json()["messages"]["en"]
    ok = api.client.get("/api/v1/cases/statistics", params={"to": "2018-07-09T08:00:00"}, headers=headers)
    assert ok.status_code == 200


def test_a_405_names_the_methods_the_resource_takes(api):
    headers = api.user("admin")
    r = api.client.delete("/api/v1/cases/statistics", headers=headers)
    assert r.status_code == 405 and r.json()["code"] == "method.not_allowed"
    assert r.headers["Allow"] == "GET"
    # The list and the create of one entity are separate routes: Allow names both.
    r = api.client.put("/api/v1/registry/buildings", headers=headers, json={})
    assert r.status_code == 405
    assert set(r.headers["Allow"].split(", ")) == {"GET", "POST"}
    r = api.client.delete("/open311/v2/services.json")
    assert r.status_code == 405 and r.headers["Allow"] == "GET"


def test_the_openapi_document_declares_the_refusals_and_the_readings_body(api):
    doc = api.client.get("/openapi.json").json()
    case = doc["paths"]["/api/v1/cases/{ref}"]["get"]["responses"]
    assert {"401", "403", "404", "422"} <= set(case)
    assert case["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorPublic")
    readings = doc["paths"]["/api/v1/sensing/readings"]["post"]
    assert {"application/json", "application/x-ndjson"} <= set(readings["requestBody"]["content"])
    schemes = {name for entry in readings["security"] for name in entry}
    assert {"DeviceKey", "ApiKey"} <= schemes
    assert doc["components"]["securitySchemes"]["DeviceKey"]["name"] == "X-Device-Key"
    assert {"413", "429"} <= set(readings["responses"])
    assert "text/csv" in doc["paths"]["/api/v1/sensing/devices/import"]["post"]["requestBody"]["content"]


def test_the_open311_endpoint_printed_by_the_demo_leads_to_discovery(api):
    r = api.client.get("/open311/v2/", follow_redirects=True)
    assert r.status_code == 200
    assert r.json()["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
