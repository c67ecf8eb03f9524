"""The docs work offline: Swagger UI and ReDoc load every asset from this server, with DEBUG
on or off, and the OpenAPI document is clean and describes the project's security schemes."""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = ["/api/docs/", "/api/redoc/"]
ATTRIBUTE = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
ABSOLUTE = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+""")


def _other_host(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "data")


def _content(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("page", PAGES)
def test_the_docs_load_nothing_from_another_host(settings, debug, page):
    settings.DEBUG = debug
    client = Client()  # a new client loads the middleware (WhiteNoise) under this DEBUG
    response = client.get(page)
    assert response.status_code == 200
    html = _content(response)
    # Inline scripts and styles too: no absolute URL anywhere in the page.
    assert not ABSOLUTE.findall(re.sub(r"<!--.*?-->", "", html, flags=re.S)), ABSOLUTE.findall(html)
    assets = [url for url in ATTRIBUTE.findall(html)]
    assert any(url.endswith(".js") for url in assets), assets
    for url in assets:
        assert not _other_host(url), url
        asset = client.get(urljoin(page, url))
        assert asset.status_code == 200, (url, asset.status_code)
        if url.endswith(".css"):
            for inner in CSS_URL.findall(_content(asset)):
                assert not _other_host(inner), (url, inner)


def test_the_schema_has_the_api_key_and_jwt_security_schemes(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyBearer"] == {**schemes["ApiKeyBearer"], "type": "http", "scheme": "bearer"}
    assert schemes["ApiKeyHeader"] == {**schemes["ApiKeyHeader"], "type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["JWT"] == {**schemes["JWT"], "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    paths = schema["paths"]
    workflows = paths["/api/workflows"]["get"]
    assert {"ApiKeyBearer": []} in workflows["security"] and {"ApiKeyHeader": []} in workflows["security"]
    assert {"JWT": []} in workflows["security"]
    # Public operations carry no security requirement; the webhook takes only an API key.
    for path, method in [("/api/health", "get"), ("/api/auth/token", "post"), ("/api/v2/workflows/health", "get")]:
        assert not paths[path][method].get("security"), path
    webhook = paths["/api/workflows/{workflow_id}/webhook"]["post"]["security"]
    assert webhook == [{"ApiKeyBearer": []}, {"ApiKeyHeader": []}]


def test_operations_document_their_real_shapes_and_errors(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths, components = schema["paths"], schema["components"]["schemas"]

    def body(path, method, status="200", media="application/json"):
        return paths[path][method]["responses"][status]["content"][media]["schema"]

    def resolved(ref_schema):
        return components[ref_schema["$ref"].rsplit("/", 1)[1]]

    assert set(resolved(body("/api/user", "get"))["properties"]) == {"user"}
    assert set(resolved(body("/api/api-keys/{key_id}", "get"))["properties"]) == {"api_key"}
    assert set(resolved(body("/api/workflows/{workflow_id}/versions/{version}", "get"))["properties"]) == {"version"}
    assert "text/event-stream" in paths["/api/workflows/runs/{run_id}/stream"]["get"]["responses"]["200"]["content"]
    assert "application/yaml" in paths["/api/workflows/{workflow_id}/export"]["get"]["responses"]["200"]["content"]
    create = paths["/api/workflows"]["post"]["responses"]
    assert {"400", "401", "403", "409", "413", "415", "429"} <= set(create)
    assert body("/api/workflows", "post", "400") == {"$ref": "#/components/schemas/Error"}
    assert {"401", "403", "404"} <= set(paths["/api/workflows/{workflow_id}"]["get"]["responses"])
    # A seed surface with its own error shape documents that shape.
    assert body("/api/v2/workflows", "post", "400") == {"$ref": "#/components/schemas/V2Error"}
    operation_ids = [op["operationId"] for ops in paths.values() for op in ops.values() if "operationId" in op]
    assert len(operation_ids) == len(set(operation_ids))
    assert paths["/api/workflows"]["get"]["operationId"] == "workflows_list"
    assert paths["/api/workflows/runs"]["get"]["operationId"] == "workflows_runs_list"
    assert paths["/api/workflows/runs/{run_id}/cancel"]["post"]["operationId"] == "workflows_runs_cancel"


def test_the_schema_generates_without_a_warning():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null", stdout=out, stderr=out)
