"""Bad input (SPEC 2): every error is the JSON envelope with the right status, never a 500."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.factories import WorkflowFactory, simple_definition
from workflows.models import Workflow


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def _problem_fields(error: dict) -> set:
    return {problem["field"] for problem in error["details"]}


# --- bodies -------------------------------------------------------------------------


def test_a_malformed_json_body_is_400_parse_error(api_client, tenant):
    response = api_client.generic("POST", "/api/workflows", '{"name": "x", "definition": {', "application/json")

    _error(response, 400, "parse_error")
    assert not Workflow.objects.for_tenant(tenant).exists()


def test_a_json_body_that_is_not_an_object_is_400(api_client):
    response = api_client.post("/api/workflows", [1, 2, 3], format="json")

    _error(response, 400, "validation_error")


def test_wrong_types_are_400_listing_every_problem(api_client, tenant):
    response = api_client.post(
        "/api/workflows", {"name": "Typed", "definition": "not an object", "tags": 42}, format="json"
    )

    error = _error(response, 400, "validation_error")
    assert _problem_fields(error) == {"definition", "tags"}
    assert all(problem["message"] for problem in error["details"])
    assert not Workflow.objects.for_tenant(tenant).exists()


def test_a_missing_required_field_is_400_naming_it(api_client):
    response = api_client.post("/api/workflows", {"name": "No definition"}, format="json")

    error = _error(response, 400, "validation_error")
    assert _problem_fields(error) == {"definition"}


def test_unknown_fields_are_400_naming_each_of_them(api_client, tenant):
    response = api_client.post(
        "/api/workflows",
        {"name": "Typo", "definition": simple_definition(), "colour": "red", "tagz": ["a"]},
        format="json",
    )

    error = _error(response, 400, "validation_error")
    assert _problem_fields(error) == {"colour", "tagz"}
    assert not Workflow.objects.for_tenant(tenant).exists()


def test_unknown_fields_and_wrong_types_are_reported_together(api_client):
    # SPEC 2: "details list every problem", not just the first kind found.
    response = api_client.post(
        "/api/workflows", {"definition": "not an object", "tags": 42, "colour": "red"}, format="json"
    )

    error = _error(response, 400, "validation_error")
    assert _problem_fields(error) == {"definition", "tags", "colour"}


def test_a_body_over_the_configured_limit_is_413(api_client, settings, tenant):
    settings.ORCHESTRATOR_MAX_BODY_BYTES = 2000
    body = {"name": "Big", "description": "x" * 3000, "definition": simple_definition()}

    response = api_client.post("/api/workflows", body, format="json")

    error = _error(response, 413, "payload_too_large")
    assert "2000" in error["message"]
    assert not Workflow.objects.for_tenant(tenant).exists()


def test_a_body_over_one_mebibyte_is_413_by_default(api_client):
    body = {"name": "Big", "description": "x" * (1024 * 1024 + 1), "definition": simple_definition()}

    response = api_client.post("/api/workflows", body, format="json")

    _error(response, 413, "payload_too_large")


def test_a_body_just_under_the_limit_is_accepted(api_client, settings):
    body = json.dumps({"name": "Small", "description": "x" * 100, "definition": simple_definition()})
    settings.ORCHESTRATOR_MAX_BODY_BYTES = len(body.encode())

    response = api_client.generic("POST", "/api/workflows", body, "application/json")

    assert response.status_code == 201, response.content


def test_a_413_is_answered_before_authentication(anonymous_client, settings):
    settings.ORCHESTRATOR_MAX_BODY_BYTES = 100

    response = anonymous_client.post("/api/workflows", {"description": "x" * 500}, format="json")

    _error(response, 413, "payload_too_large")


def test_a_chunked_body_over_the_limit_is_413_on_a_real_server(live_servers, raw_member_key):
    # Without Content-Length the middleware cannot see the size up front; the body
    # must still be refused rather than read whole.
    base_url = live_servers({"ORCHESTRATOR_MAX_BODY_BYTES": "1000"})
    payload = json.dumps({"definition": {**simple_definition(), "description": "x" * 5000}}).encode()

    def chunks():
        for start in range(0, len(payload), 500):
            yield payload[start : start + 500]

    response = httpx.post(
        f"{base_url}/api/workflows/validate",
        content=chunks(),
        headers={"X-API-Key": raw_member_key, "Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_text_plain_body_is_415(api_client, tenant):
    response = api_client.generic(
        "POST", "/api/workflows", json.dumps({"name": "x", "definition": simple_definition()}), "text/plain"
    )

    _error(response, 415, "unsupported_media_type")
    assert not Workflow.objects.for_tenant(tenant).exists()


def test_a_form_encoded_body_is_415(api_client):
    response = api_client.post("/api/workflows", {"name": "x"}, format="multipart")

    _error(response, 415, "unsupported_media_type")


# --- methods and paths --------------------------------------------------------------


def test_a_wrong_method_is_405_in_the_envelope(api_client):
    response = api_client.delete("/api/workflows/validate")

    _error(response, 405, "method_not_allowed")


def test_put_on_the_workflow_list_is_405(api_client):
    response = api_client.put("/api/workflows", {}, format="json")

    _error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("path", ["/api/nope", "/api/workflows/", "/api/workflows/wf_x/nope", "/nothing-here"])
def test_an_unknown_url_is_a_404_json_envelope(api_client, path):
    response = api_client.get(path)

    _error(response, 404, "not_found")


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    "path", ["/api", "/api/", "/api/nope", "/api/workflows/runs/run_x/nope", "/api/node-types/x/y/z"]
)
def test_an_unknown_api_path_is_json_with_or_without_debug(api_client, settings, debug, path):
    settings.DEBUG = debug

    for method in ("get", "post", "put", "patch", "delete"):
        _error(getattr(api_client, method)(path), 404, "not_found")


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("typo", "meant"),
    [("/api/workflows/", "/api/workflows"), ("/api/health/", "/api/health"), ("/api/schema", "/api/schema/")],
)
def test_a_trailing_slash_typo_is_a_json_404_naming_the_right_path(api_client, settings, debug, typo, meant):
    settings.DEBUG = debug

    error = _error(api_client.get(typo), 404, "not_found")

    assert f"Did you mean {meant}?" in error["message"]


def test_an_unknown_path_needs_no_csrf_token_to_get_its_json_404(db, settings):
    from django.test import Client

    settings.DEBUG = True
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "whatever"

    _error(client.post("/api/nope", data="{}", content_type="application/json"), 404, "not_found")


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/health"),
        ("put", "/api/workflows"),
        ("get", "/api/workflows/validate"),
        ("post", "/api/node-types"),
    ],
)
def test_a_wrong_method_is_a_json_405_with_or_without_debug(api_client, settings, debug, method, path):
    settings.DEBUG = debug

    _error(getattr(api_client, method)(path), 405, "method_not_allowed")


def test_an_unknown_path_on_a_debug_server_answers_json(live_servers):
    base_url = live_servers({"DEBUG": "true"})

    for path in ("/api/nope", "/api/workflows/"):
        response = httpx.post(f"{base_url}{path}", json={}, timeout=15)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_workflow_id_is_404(api_client, db):
    response = api_client.get("/api/workflows/wf_doesnotexist")

    _error(response, 404, "not_found")


def test_a_non_numeric_version_in_the_path_is_404(api_client, workflow):
    response = api_client.get(f"/api/workflows/{workflow.id}/versions/latest")

    _error(response, 404, "not_found")


# --- query parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{"limit": "abc"}, {"limit": "-1"}, {"offset": "-1"}, {"offset": "abc"}, {"limit": "1.5"}],
    ids=["limit=abc", "limit=-1", "offset=-1", "offset=abc", "limit=1.5"],
)
def test_a_garbage_limit_or_offset_is_400(api_client, workflow, params):
    response = api_client.get("/api/workflows", params)

    error = _error(response, 400, "validation_error")
    assert _problem_fields(error) == set(params)


def test_limit_returns_that_many_with_the_full_total(api_client, tenant):
    WorkflowFactory.create_batch(3, tenant=tenant)

    response = api_client.get("/api/workflows", {"limit": 2})

    body = response.json()
    assert len(body["workflows"]) == 2
    assert body["total"] == 3


def test_offset_skips_that_many(api_client, tenant):
    created = WorkflowFactory.create_batch(3, tenant=tenant)

    response = api_client.get("/api/workflows", {"limit": 2, "offset": 2})

    assert [w["id"] for w in response.json()["workflows"]] == [created[0].id]


def test_a_limit_over_200_is_capped_at_200(api_client, tenant):
    WorkflowFactory.create_batch(201, tenant=tenant)

    response = api_client.get("/api/workflows", {"limit": 1000})

    body = response.json()
    assert response.status_code == 200
    assert len(body["workflows"]) == 200
    assert body["total"] == 201


def test_the_default_limit_is_50(api_client, tenant):
    WorkflowFactory.create_batch(51, tenant=tenant)

    response = api_client.get("/api/workflows")

    assert len(response.json()["workflows"]) == 50


def test_an_unknown_status_filter_is_400(api_client, workflow):
    response = api_client.get("/api/workflows", {"status": "sleeping"})

    _error(response, 400, "validation_error")


@pytest.mark.parametrize("query", ["v1=abc&v2=1", "v1=0&v2=1", "v2=1"], ids=["abc", "zero", "missing"])
def test_a_bad_diff_version_is_400(api_client, workflow, query):
    response = api_client.get(f"/api/workflows/{workflow.id}/diff?{query}")

    _error(response, 400, "validation_error")


def test_an_unknown_export_format_is_400(api_client, workflow):
    response = api_client.get(f"/api/workflows/{workflow.id}/export", {"format": "xml"})

    _error(response, 400, "validation_error")
