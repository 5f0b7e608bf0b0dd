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
