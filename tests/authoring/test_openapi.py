"""The OpenAPI document describes every authoring operation with examples, and its examples are
what the server really answers."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
import yaml
from django.core.management import call_command

from orchestrator.authoring.generation import generation_start
from orchestrator.authoring.parse import workflow_parse
from workflows.api import authoring_examples as ex
from workflows.api.authoring_examples import GENERATE_OPS, GENERATE_PROMPT, PARSE_REQUEST, PARSE_RESPONSE

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/workflows/templates", "get"): "workflow_templates_list",
    ("/api/workflows/templates", "post"): "workflow_templates_create",
    ("/api/workflows/templates/{template_id}", "get"): "workflow_templates_retrieve",
    ("/api/workflows/templates/{template_id}", "delete"): "workflow_templates_destroy",
    ("/api/workflows/templates/{template_id}/install", "post"): "workflow_templates_install",
    ("/api/workflows/parse", "post"): "workflows_parse",
    ("/api/workflows/generate", "post"): "workflows_generate",
    ("/api/workflows/{workflow_id}/code", "get"): "workflows_code_retrieve",
    ("/api/workflows/{workflow_id}/download", "get"): "workflows_download_retrieve",
}


def test_every_authoring_operation_is_documented(api_client):
    schema = yaml.safe_load(api_client.get("/api/schema/").content)
    for (path, method), operation_id in OPERATIONS.items():
        operation = schema["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["summary"] and operation["responses"]
    parse = schema["paths"]["/api/workflows/parse"]["post"]
    assert parse["requestBody"]["content"]["application/json"]["examples"]["Seed004"]["value"] == PARSE_REQUEST
    assert "422" in parse["responses"]
    generate = schema["paths"]["/api/workflows/generate"]["post"]["responses"]["200"]["content"]
    assert "application/x-ndjson" in generate
    code = schema["paths"]["/api/workflows/{workflow_id}/code"]["get"]["responses"]["200"]["content"]
    assert {"text/x-python", "application/typescript"} <= set(code)
    install = schema["paths"]["/api/workflows/templates/{template_id}/install"]["post"]
    assert install["requestBody"]["content"]["application/json"]["examples"]["Seed001"]["value"] == {
        "name": "My custom pipeline"
    }


def test_the_examples_are_what_the_server_answers(tenant):
    answer = workflow_parse(tenant=tenant, instruction=PARSE_REQUEST["instruction"], context=PARSE_REQUEST["context"])
    assert answer["workflow"] == PARSE_RESPONSE["workflow"]
    ops = list(generation_start(tenant=tenant, prompt=GENERATE_PROMPT))
    strip = [{k: v for k, v in op.items() if k != "parse_time_ms"} for op in ops]
    assert strip == [{k: v for k, v in op.items() if k != "parse_time_ms"} for op in GENERATE_OPS]


# IDs and times are those of the run the examples were taken from: compared by their form.
_ID = re.compile(r"\b(tpl|wf|usr)_[0-9a-z]{26}\b")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def _form(value: object) -> object:
    if isinstance(value, dict):
        return {key: _form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_form(item) for item in value]
    if isinstance(value, str):
        return "<time>" if _TIME.match(value) else _ID.sub(lambda m: f"<{m.group(1)}_id>", value)
    return value


def _examples(schema: dict, path: str, method: str) -> dict[str, dict]:
    """Every example of an operation: {"request": {name: value}, "200 text/x-python": {name: value}, …}."""
    operation = schema["paths"][path][method]
    found = {}
    for media_type, content in (operation.get("requestBody") or {}).get("content", {}).items():
        if content.get("examples"):
            found[f"request {media_type}"] = {k: v["value"] for k, v in content["examples"].items()}
    for code, response in operation["responses"].items():
        for media_type, content in (response.get("content") or {}).items():
            if content.get("examples"):
                found[f"{code} {media_type}"] = {k: v["value"] for k, v in content["examples"].items()}
    return found


def test_the_template_and_code_examples_are_what_the_server_answers(api_client, admin_client):
    """Each example of the templates and code-export operations, as the served document shows it,
    next to what the server answers to the same request."""
    schema = yaml.safe_load(api_client.get("/api/schema/").content)
    for path, method in OPERATIONS:
        assert _examples(schema, path, method), f"{method.upper()} {path} has no example"
    shown = {(path, method): _examples(schema, path, method) for path, method in OPERATIONS}
    json_ = "application/json"

    templates = shown[("/api/workflows/templates", "get")]
    answer = api_client.get("/api/workflows/templates?search=uptime&limit=1")
    assert answer.status_code == 200
    assert _form(answer.json()) == _form(templates[f"200 {json_}"]["Search"]) == _form(ex.TEMPLATE_LIST_RESPONSE)

    detail = shown[("/api/workflows/templates/{template_id}", "get")]
    answer = api_client.get("/api/workflows/templates/uptime-check")
    assert answer.status_code == 200 and _form(answer.json()) == _form(detail[f"200 {json_}"]["Built-in"])
    answer = api_client.get("/api/workflows/templates/tpl_nope")
    assert answer.status_code == 404 and answer.json() == detail[f"404 {json_}"]["NotFound"]

    install = shown[("/api/workflows/templates/{template_id}/install", "post")]
    request = install[f"request {json_}"]["Seed001"]
    answer = api_client.post("/api/workflows/templates/uptime-check/install", request, format="json")
    assert answer.status_code == 201 and _form(answer.json()) == _form(install[f"201 {json_}"]["Installed"])
    workflow_id = answer.json()["workflow_id"]
    assert install[f"404 {json_}"]["NotFound"] == ex.TEMPLATE_NOT_FOUND

    create = shown[("/api/workflows/templates", "post")]
    request = create[f"request {json_}"]["SaveAWorkflow"]
    assert request["workflow_id"] == ex.TEMPLATE_INSTALL_RESPONSE["workflow_id"]  # the installed one
    answer = api_client.post("/api/workflows/templates", {**request, "workflow_id": workflow_id}, format="json")
    assert answer.status_code == 201 and _form(answer.json()) == _form(create[f"201 {json_}"]["Saved"])
    assert answer.json()["template"]["source_workflow_id"] == workflow_id

    delete = shown[("/api/workflows/templates/{template_id}", "delete")]
    answer = admin_client.delete("/api/workflows/templates/uptime-check")
    assert answer.status_code == 403 and answer.json() == delete[f"403 {json_}"]["Built-in"]
    answer = admin_client.delete("/api/workflows/templates/tpl_nope")
    assert answer.status_code == 404 and answer.json() == delete[f"404 {json_}"]["NotFound"]

    # The code examples are of the installed workflow, exported by a server at 127.0.0.1:8000.
    code = shown[("/api/workflows/{workflow_id}/code", "get")]
    example_id = ex.TEMPLATE_INSTALL_RESPONSE["workflow_id"]
    for language, media_type, name in (
        ("python", "text/x-python", "Python"),
        ("typescript", "application/typescript", "TypeScript"),
    ):
        answer = api_client.get(f"/api/workflows/{workflow_id}/code?language={language}", HTTP_HOST="127.0.0.1:8000")
        assert answer.status_code == 200 and answer["Content-Type"].startswith(media_type)
        assert answer.content.decode().replace(workflow_id, example_id) == code[f"200 {media_type}"][name]
    download = shown[("/api/workflows/{workflow_id}/download", "get")]
    for path, examples in (("code", code), ("download", download)):
        answer = api_client.get(f"/api/workflows/{workflow_id}/{path}?language=ruby")
        assert answer.status_code == 400 and answer.json() == examples[f"400 {json_}"]["UnsupportedLanguage"]
    answer = api_client.get(f"/api/workflows/{workflow_id}/download", HTTP_HOST="127.0.0.1:8000")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    described = schema["paths"]["/api/workflows/{workflow_id}/download"]["get"]["description"]
    assert names == [
        "my_custom_pipeline/run_my_custom_pipeline.py",
        "my_custom_pipeline/README.md",
        "my_custom_pipeline/requirements.txt",
    ]
    assert all(f"`{name}`" in described for name in names)
    program = zipfile.ZipFile(io.BytesIO(answer.content)).read(names[0]).decode()
    assert program.replace(workflow_id, example_id) == ex.CODE_PYTHON

    parse = shown[("/api/workflows/parse", "post")]
    answer = api_client.post("/api/workflows/parse", {"instruction": "asdfgh qwerty zxcvb"}, format="json")
    assert answer.status_code == 422 and answer.json() == parse[f"422 {json_}"]["Nonsense"]
    request = parse[f"request {json_}"]["UnknownIntegration"]
    answer = api_client.post("/api/workflows/parse", request, format="json")
    assert answer.status_code == 404 and answer.json() == parse[f"404 {json_}"]["UnknownIntegration"]
    answer = api_client.post("/api/workflows/parse", parse[f"request {json_}"]["ATemplate"], format="json")
    assert answer.status_code == 200 and answer.json()["workflow"]["source"] == "template"


def test_the_install_example_with_inputs_and_integrations_installs(
    api_client, admin_client, admin_user, make_integration
):
    schema = yaml.safe_load(api_client.get("/api/schema/").content)
    install = _examples(schema, "/api/workflows/templates/{template_id}/install", "post")
    request = install["request application/json"]["WithInputsAndIntegrations"]
    slack = make_integration(admin_user, "slack", {"token": "xoxb-1"}, request["integrations"]["alerts"])
    answer = admin_client.post("/api/workflows/templates/uptime-check/install", request, format="json")
    assert answer.status_code == 201, answer.content
    definition = answer.json()["workflow"]["definition"]
    for name, value in request["inputs"].items():
        assert definition["inputs"]["properties"][name]["default"] == value
    alert = next(step for step in definition["steps"] if step["id"] == "alert")
    assert alert["config"]["integration_id"] == slack.id


def test_the_authoring_benchmark_reports_the_rules_path_p95(capsys):
    call_command("benchmark", "--only", "authoring", "--json")
    report = json.loads(capsys.readouterr().out)["authoring"]
    p95 = report["parse_rules_p95"]
    assert p95["unit"] == "ms" and p95["target_seconds"] == 0.05 and p95["runs"] == 75 and p95["seconds"] > 0
