"""Code export: GET /api/workflows/{id}/code and /download, and the exported programs running
real runs against a live server (uvicorn) and a real worker: the Python one with the standard
library only (``python -I -S``), the TypeScript one type-checked by tsc and run by node."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from apikeys.services import api_key_create
from tests.engine.conftest import QUEUE, Worker, flush_retrying_deadlocks
from tests.factories import TenantFactory, UserFactory, WorkflowFactory
from tests.live import ROOT, server_log, start_server, stop_server
from workflows.services import workflow_create

TSC = ROOT / ".cache" / "node" / "node_modules" / ".bin" / "tsc"

GREETING = {
    "inputs": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "Who to greet."},
            "times": {"type": "integer", "default": 1},
        },
        "required": ["name"],
    },
    "outputs": {"greeting": "{{ steps.greet.output }}", "status": "{{ steps.fetch.output.status_code }}"},
}


def greeting_steps(url: str) -> list[dict]:
    return [
        {"id": "fetch", "type": "http_request", "config": {"method": "GET", "url": url}},
        {
            "id": "greet",
            "type": "transform",
            "depends_on": ["fetch"],
            "config": {"value": "Hello {{ input.name }} x{{ input.times }}"},
        },
    ]


# --- the endpoints -----------------------------------------------------------------------------


@pytest.mark.django_db
class TestEndpoints:
    def test_code_is_a_python_script_for_that_workflow(self, api_client, workflow):
        response = api_client.get(f"/api/workflows/{workflow.id}/code")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/x-python; charset=utf-8"
        code = response.content.decode()
        compile(code, "exported.py", "exec")
        assert f'WORKFLOW_ID = "{workflow.id}"' in code and 'DEFAULT_BASE_URL = "http://testserver"' in code
        assert "import urllib.request" in code and "requests" not in code

    def test_typescript_on_request(self, api_client, workflow):
        response = api_client.get(f"/api/workflows/{workflow.id}/code?language=typescript", HTTP_ACCEPT="text/plain")
        assert response.status_code == 200 and response["Content-Type"].startswith("application/typescript")
        assert f'const WORKFLOW_ID = "{workflow.id}";' in response.content.decode()

    def test_download_is_a_zip_of_script_readme_and_requirements(self, api_client, workflow):
        for language, names in (
            ("python", {"README.md", "requirements.txt"}),
            ("typescript", {"README.md", "package.json", "tsconfig.json"}),
        ):
            response = api_client.get(f"/api/workflows/{workflow.id}/download?language={language}")
            assert response.status_code == 200 and response["Content-Type"] == "application/zip"
            assert response["Content-Disposition"].startswith('attachment; filename="')
            archive = zipfile.ZipFile(io.BytesIO(response.content))
            files = {Path(n).name for n in archive.namelist()}
            script = next(n for n in files if n.startswith("run_"))
            assert files == names | {script}
            readme = next(archive.read(n).decode() for n in archive.namelist() if n.endswith("README.md"))
            assert workflow.id in readme and "ORCHESTRATOR_API_KEY" in readme

    def test_errors_are_in_the_envelope(self, api_client, other_tenant_workflow, workflow):
        for path in (f"/api/workflows/{other_tenant_workflow.id}/code", "/api/workflows/wf_nope/download"):
            response = api_client.get(path)
            assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        response = api_client.get(f"/api/workflows/{workflow.id}/code?language=cobol")
        assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "language"

    def test_no_definition_or_secret_is_exported(self, api_client, tenant, member):
        workflow = WorkflowFactory(
            tenant=tenant,
            definition={"steps": [{"id": "a", "type": "http_request", "config": {"url": "https://x/?token=abc123"}}]},
        )
        code = api_client.get(f"/api/workflows/{workflow.id}/code").content.decode()
        assert "abc123" not in code


# --- live runs -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(django_db_setup, _engine_queue):
    worker = Worker(concurrency=2).start()
    try:
        base_url, server = start_server({"ORCHESTRATOR_TASK_QUEUE": QUEUE, "ORCHESTRATOR_RATE_LIMIT": "0"})
    except Exception:
        worker.stop()
        raise
    with flush_retrying_deadlocks():
        yield SimpleNamespace(url=base_url, log=lambda: server_log(server))
    stop_server(server)
    worker.stop()


@pytest.fixture
def caller(transactional_db):
    user = UserFactory(tenant=TenantFactory())
    _, key = api_key_create(user=user, name="export")
    return SimpleNamespace(user=user, key=key)


def exported(live, caller, workflow, language: str) -> str:
    response = httpx.get(
        f"{live.url}/api/workflows/{workflow.id}/code",
        params={"language": language},
        headers={"Authorization": f"Bearer {caller.key}"},
    )
    assert response.status_code == 200, response.text
    return response.text


def program_env(live, caller) -> dict:
    return {"PATH": os.environ["PATH"], "ORCHESTRATOR_URL": live.url, "ORCHESTRATOR_API_KEY": caller.key}


@pytest.mark.engine
@pytest.mark.django_db(transaction=True)
def test_the_exported_python_script_runs_a_run_to_completion(live, caller, http_server, tmp_path):
    workflow = workflow_create(
        user=caller.user,
        name=f"Greeting {uuid.uuid4().hex[:6]}",
        definition={**GREETING, "steps": greeting_steps(f"{http_server.url}/ping")},
    )
    script = tmp_path / "run.py"
    script.write_text(exported(live, caller, workflow, "python"))
    # -I -S: no site-packages, no PYTHON* variables: the standard library only.
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(script), "name=Ada", "--input", '{"times": 2}'],
        env=program_env(live, caller),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, (result.stdout, result.stderr, live.log())
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed"
    assert outcome["outputs"] == {"greeting": "Hello Ada x2", "status": 200}
    assert "run_started" in result.stderr and "step_completed" in result.stderr and "run_completed" in result.stderr
    assert http_server.count("/ping") == 1


@pytest.mark.engine
@pytest.mark.django_db(transaction=True)
def test_the_exported_python_script_says_when_a_run_fails_or_is_refused(live, caller, http_server, tmp_path):
    http_server.routes["/ping"] = (500, {"error": "down"})
    workflow = workflow_create(
        user=caller.user,
        name=f"Failing {uuid.uuid4().hex[:6]}",
        definition={**GREETING, "steps": greeting_steps(f"{http_server.url}/ping")},
    )
    script = tmp_path / "run.py"
    script.write_text(exported(live, caller, workflow, "python"))
    failed = subprocess.run(
        [sys.executable, "-I", "-S", str(script), "name=Ada"],
        env=program_env(live, caller),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert failed.returncode == 1, failed.stderr
    assert json.loads(failed.stdout)["status"] == "failed" and "HTTP 500" in failed.stderr
    refused = subprocess.run(
        [sys.executable, "-I", "-S", str(script)],
        env=program_env(live, caller),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "HTTP 400" in refused.stderr and "name" in refused.stderr
    no_key = subprocess.run(
        [sys.executable, "-I", "-S", str(script), "name=x"], env={"PATH": os.environ["PATH"], "ORCHESTRATOR_URL": live.url},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert no_key.returncode == 2 and "ORCHESTRATOR_API_KEY" in no_key.stderr


@pytest.mark.engine
@pytest.mark.django_db(transaction=True)
def test_the_exported_typescript_type_checks_and_runs_a_run_with_node(live, caller, http_server, tmp_path):
    if not TSC.exists() or shutil.which("node") is None:
        pytest.skip(f"needs node and {TSC} (`make node-tools` installs TypeScript from the npm registry)")
    workflow = workflow_create(
        user=caller.user,
        name=f"TS greeting {uuid.uuid4().hex[:6]}",
        definition={**GREETING, "steps": greeting_steps(f"{http_server.url}/ping")},
    )
    (tmp_path / "run.ts").write_text(exported(live, caller, workflow, "typescript"))
    (tmp_path / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "target": "ES2022",
                    "module": "commonjs",
                    "lib": ["ES2022", "DOM"],
                    "strict": True,
                    "noUnusedLocals": True,
                    "outDir": "dist",
                    "types": ["node"],
                    "typeRoots": [str(ROOT / ".cache" / "node" / "node_modules" / "@types")],
                },
                "files": ["run.ts"],
            }
        )  # fmt: skip
    )
    compiled = subprocess.run([str(TSC), "-p", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    result = subprocess.run(
        ["node", str(tmp_path / "dist" / "run.js"), "name=Grace", "times=3"],
        env=program_env(live, caller),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed" and outcome["outputs"]["greeting"] == "Hello Grace x3"
    assert "run_completed" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_generate_streams_lines_through_the_asgi_server(live, caller):
    body = {"prompt": "Fetch https://api.example.com/data, summarize it, and post the summary to #general"}
    headers = {"Authorization": f"Bearer {caller.key}", "Accept": "application/x-ndjson"}
    with httpx.stream("POST", f"{live.url}/api/workflows/generate", json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        ops = [json.loads(line) for line in response.iter_lines() if line]
    assert ops[0]["op"] == "setName" and ops[-1]["op"] == "done"
    assert [op["step"]["type"] for op in ops if op["op"] == "addStep"] == ["http_request", "agent_task", "integration"]
    # An async iterator under ASGI: Django did not have to read the stream whole before sending it.
    assert "must consume synchronous iterators" not in live.log()
