"""Secrets echoed back in other encodings (issue 11, item 7): providers on 127.0.0.1 answer
with the credential they were sent in every encoding a careless server may use — base64
(standard, URL-safe, unpadded, of ``Bearer <token>`` and of ``<user>:<token>``), hex in both
cases, upper- and lower-cased. A real worker runs the steps; none of the forms may reach the
stored rows, the worker's log, the run detail / logs / events API, the SSE stream or the
WebSocket frames of a real uvicorn server."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest

from integrations.services import integration_create
from orchestrator.tenancy.authentication import token_pair_for
from runs.models import StepRun
from tests.channels.clients import connect, read_stream, terminal, ws_receive_until
from tests.engine.conftest import wait_for_run
from tests.factories import TenantFactory, UserFactory
from tests.integrations.conftest import LLM_KEY, SLACK_TOKEN, header, llm_config, slack_config
from tests.integrations.test_engine import everything_stored_about, start
from tests.live import server_log, start_server, stop_server

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

# ">>>" and "???" make '+' and '/' in standard base64, so the URL-safe forms differ.
BEARER_TOKEN = "enc-Bearer>>>Token???-7a1c"
BASIC_USER = "robot"
BASIC_PASSWORD = "enc-Basic>>>Pass???-9e2f"
HEADER_VALUE = "enc-Header>>>Key???-3b4d"
SECRETS = [BEARER_TOKEN, BASIC_PASSWORD, HEADER_VALUE, LLM_KEY, SLACK_TOKEN]


def b64_forms(data: bytes) -> dict[str, str]:
    std, url = base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()
    return {"std": std, "url": url, "std_unpadded": std.rstrip("="), "url_unpadded": url.rstrip("=")}


def encodings(secret: str, user: str = BASIC_USER) -> dict[str, str]:
    """Every form the echoing servers send back, by name."""
    forms = {"raw": secret, "upper": secret.upper(), "lower": secret.lower()}
    forms |= {"hex": secret.encode().hex(), "HEX": secret.encode().hex().upper()}
    forms |= {f"b64_{k}": v for k, v in b64_forms(secret.encode()).items()}
    forms |= {f"bearer_b64_{k}": v for k, v in b64_forms(f"Bearer {secret}".encode()).items()}
    forms |= {f"basic_b64_{k}": v for k, v in b64_forms(f"{user}:{secret}".encode()).items()}
    return forms


def all_forms() -> list[str]:
    forms = {form for secret in SECRETS for form in encodings(secret).values()}
    assert len(forms) > 60  # the forms differ from one another: a test of each
    return sorted(forms)


def assert_no_form_in(text: str, where: str) -> None:
    leaked = [form for form in all_forms() if form in text]
    assert not leaked, f"{len(leaked)} secret forms reached {where}, e.g. {leaked[0][:8]}…"


def echoed_secret(headers: dict) -> str:
    """The credential this request carried (bearer token, basic password or the header's value)."""
    authorization = header(headers, "Authorization") or ""
    if authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ")
    if authorization.startswith("Basic "):
        return base64.b64decode(authorization.removeprefix("Basic ")).decode().split(":", 1)[1]
    return header(headers, "X-Service-Key") or ""


@pytest.fixture(scope="module")
def site(django_db_setup):
    base_url, process = start_server({"ORCHESTRATOR_RATE_LIMIT": "0"})
    yield base_url
    stop_server(process)
    assert "Traceback" not in server_log(process)


@pytest.fixture
def user(transactional_db):
    return UserFactory(tenant=TenantFactory(), role="admin")


@pytest.fixture
def echoing(apis):
    """The http, llm and slack routes all answer with every encoding of the credential they got."""
    routes = apis.server.routes
    routes["/api/encoded"] = lambda attempt, raw, headers: (200, {"echo": encodings(echoed_secret(headers))})
    routes["/api/encoded-error"] = lambda attempt, raw, headers: (400, {"error": encodings(echoed_secret(headers))})
    apis.llm_answer = json.dumps(encodings(LLM_KEY))

    def slack_post(attempt, raw, headers):
        return 200, {"ok": True, "channel": "C1", "ts": "1.2", "message": {"text": encodings(echoed_secret(headers))}}

    routes["/slack/chat.postMessage"] = slack_post
    return apis


def test_no_encoding_of_any_secret_reaches_storage_logs_api_sse_or_websockets(integration_worker, echoing, site, user):
    base = echoing.http_base
    integration_create(
        user=user, name="bearer", type="http", config={"base_url": base, "auth_type": "bearer", "token": BEARER_TOKEN}
    )
    integration_create(
        user=user,
        name="basic",
        type="http",
        config={"base_url": base, "auth_type": "basic", "username": BASIC_USER, "password": BASIC_PASSWORD},
    )
    integration_create(
        user=user,
        name="keyed",
        type="http",
        config={"base_url": base, "auth_type": "header", "header_name": "X-Service-Key", "header_value": HEADER_VALUE},
    )
    integration_create(user=user, name="llm", type="llm", config=llm_config(echoing))
    integration_create(user=user, name="slack", type="slack", config=slack_config(echoing))
    steps = [
        {"id": "bearer", "type": "http_request", "config": {"url": "encoded", "integration_id": "bearer"}},
        {"id": "basic", "type": "http_request", "config": {"url": "encoded", "integration_id": "basic"}},
        {
            "id": "keyed",
            "type": "integration",
            "config": {"action": "http.request", "integration_id": "keyed", "path": "encoded"},
        },
        {"id": "agent", "type": "agent_task", "config": {"agent_id": "llm", "goal": "Echo"}},
        {
            "id": "slack",
            "type": "integration",
            "config": {"action": "slack.post_message", "integration_id": "slack", "channel": "#x", "text": "hi"},
        },
        {
            "id": "failing",  # last, so that its failure cancels nothing
            "type": "http_request",
            "config": {"url": "encoded-error", "integration_id": "bearer"},
            "depends_on": ["bearer", "basic", "keyed", "agent", "slack"],
        },
    ]

    run = wait_for_run(start(user, steps).id, timeout=60)

    step = {sr.step_id: sr for sr in StepRun.objects.filter(run=run)}
    assert run.status == "failed" and step["failing"].status == "failed"
    # Each server did echo every form, and each arrived masked (the test can fail: the forms were there).
    outputs = {
        "bearer": step["bearer"].output["body"]["echo"],
        "basic": step["basic"].output["body"]["echo"],
        "keyed": step["keyed"].output["body"]["echo"],
        "agent": json.loads(step["agent"].output["text"]),
        "slack": step["slack"].output["message"]["text"],
        "failing": step["failing"].output["body"]["error"],
    }
    for name, echoed in outputs.items():
        assert set(echoed) == set(encodings("x")), name
        assert all("[REDACTED]" in value for value in echoed.values()), (name, echoed)

    assert_no_form_in(everything_stored_about(run), "the stored rows")
    assert_no_form_in(integration_worker.output(), "the worker's log")

    headers = {"Authorization": f"Bearer {token_pair_for(user)['access']}"}
    for path in ("", "/logs", "/events", "/status"):
        response = httpx.get(f"{site}/api/workflows/runs/{run.id}{path}", headers=headers, timeout=10)
        assert response.status_code == 200, (path, response.text)
        assert_no_form_in(response.text, f"GET …/runs/{{id}}{path}")
    response = httpx.get(f"{site}/api/events", params={"run_id": run.id}, headers=headers, timeout=10)
    assert response.status_code == 200 and run.id in response.text
    assert_no_form_in(response.text, "GET /api/events")

    response, frames = read_stream(f"{site}/api/workflows/runs/{run.id}/stream", headers)
    assert response.status_code == 200 and frames[-1]["event"] == "run_failed"
    assert any("[REDACTED]" in json.dumps(frame) for frame in frames)
    assert_no_form_in(json.dumps(frames), "the SSE stream")

    async def websocket_frames() -> list[dict]:
        token = token_pair_for(user)["access"]
        async with connect(f"{site.replace('http://', 'ws://')}/ws/runs/{run.id}?after=0&token={token}") as ws:
            return await ws_receive_until(ws, terminal)

    ws_frames = asyncio.run(websocket_frames())
    assert ws_frames[-1]["type"] == "run_failed"
    assert_no_form_in(json.dumps(ws_frames), "the WebSocket frames")
