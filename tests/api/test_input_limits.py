"""The input limits one by one (README "Input limits"); tests/api/test_fuzz_inputs.py sweeps them
over every endpoint."""

from __future__ import annotations

import json

from workflows.models import Workflow

DEFINITION = {"steps": [{"id": "s", "type": "transform", "config": {"value": 1}}]}


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    if code:
        assert error["code"] == code
    return error


def test_a_1000_level_body_to_the_unauthenticated_token_endpoint_is_400(anonymous_client, db):
    body = '{"username":' * 1000 + '"x"' + "}" * 1000
    error = _error(anonymous_client.post("/api/auth/token", data=body, content_type="application/json"), 400)
    assert "nested 1000 levels" in error["message"]


def test_a_yaml_bomb_import_is_refused_and_stores_nothing(api_client):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nname: bomb\nsteps: []\n"
    response = api_client.post("/api/workflows/import", data=bomb, content_type="application/yaml")
    error = _error(response, 400, "parse_error")
    assert "anchors" in error["message"] or "aliases" in error["message"]
    assert not Workflow.objects.exists()


def test_a_nul_in_a_step_config_names_its_path(api_client):
    definition = {"steps": [{"id": "s", "type": "transform", "config": {"value": "a\u0000b"}}]}
    response = api_client.post(
        "/api/workflows", data=json.dumps({"name": "n", "definition": definition}), content_type="application/json"
    )
    error = _error(response, 400, "validation_error")
    assert error["details"][0]["field"] == "definition.steps[0].config.value"


def test_a_lone_surrogate_escape_in_a_run_input_key_is_400(api_client, workflow):
    body = '{"input_data": {"\\ud800": 1}}'
    response = api_client.post(f"/api/workflows/{workflow.id}/run", data=body, content_type="application/json")
    _error(response, 400, "validation_error")
    assert not workflow.runs.exists()


def test_a_valid_surrogate_pair_is_accepted(api_client):
    body = '{"name": "smile \\ud83d\\ude00", "definition": ' + json.dumps(DEFINITION) + "}"
    response = api_client.post("/api/workflows", data=body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Workflow.objects.get().name == "smile \U0001f600"


def test_a_201_character_name_in_the_definition_is_400_not_a_database_error(api_client):
    body = {"definition": {**DEFINITION, "name": "n" * 201}}
    error = _error(api_client.post("/api/workflows", data=body, format="json"), 400, "validation_error")
    assert error["details"][0]["field"] == "name"


def test_a_201_character_wait_signal_fails_validation(api_client):
    definition = {"steps": [{"id": "w", "type": "wait", "config": {"signal": "s" * 201}}]}
    _error(api_client.post("/api/workflows", data={"name": "w", "definition": definition}, format="json"), 400)


def test_a_definition_over_the_byte_limit_is_refused_however_it_arrives(api_client, workflow, settings):
    settings.ORCHESTRATOR_MAX_DEFINITION_BYTES = 300
    big = {"steps": [{"id": f"s{i}", "type": "transform", "config": {"value": i}} for i in range(10)]}
    _error(
        api_client.post("/api/workflows", data={"name": "big", "definition": big}, format="json"),
        400,
        "definition_too_large",
    )
    yaml_body = "name: big\nsteps:\n" + "".join(
        f"  - {{id: s{i}, type: transform, config: {{value: {i}}}}}\n" for i in range(10)
    )
    _error(
        api_client.post("/api/workflows/import", data=yaml_body, content_type="application/yaml"),
        400,
        "definition_too_large",
    )
    assert list(Workflow.objects.all()) == [workflow]


def test_a_huge_offset_is_400_naming_it(api_client, db):
    error = _error(api_client.get("/api/workflows?offset=9223372036854775808"), 400, "validation_error")
    assert error["details"][0]["field"] == "offset"


def test_a_limit_over_200_is_clamped(api_client, db):
    assert api_client.get("/api/workflows?limit=100000").status_code == 200


def test_a_nul_in_a_query_parameter_is_400_naming_it(api_client, db):
    error = _error(api_client.get("/api/workflows/runs?workflow_id=%00"), 400, "validation_error")
    assert error["details"][0]["field"] == "workflow_id"


def test_an_id_that_cannot_exist_is_a_json_404(api_client, db):
    _error(api_client.get("/api/workflows/wf_%00x"), 404, "not_found")
    _error(api_client.get("/api/workflows/wf_" + "0" * 26 + "/versions/99999999999"), 404, "not_found")
