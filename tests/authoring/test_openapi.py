"""The OpenAPI document describes every authoring operation with examples, and its examples are
what the server really answers."""

from __future__ import annotations

import json

import pytest
import yaml
from django.core.management import call_command

from orchestrator.authoring.generation import generation_start
from orchestrator.authoring.parse import workflow_parse
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


def test_the_authoring_benchmark_reports_the_rules_path_p95(capsys):
    call_command("benchmark", "--only", "authoring", "--json")
    report = json.loads(capsys.readouterr().out)["authoring"]
    p95 = report["parse_rules_p95"]
    assert p95["unit"] == "ms" and p95["target_seconds"] == 0.05 and p95["runs"] == 75 and p95["seconds"] > 0
