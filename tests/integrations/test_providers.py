"""Providers against servers started here on 127.0.0.1 (Slack-shaped, OpenAI-compatible,
a bearer-protected HTTP API, SMTP): the /test endpoint, and the step-side calls
(agent_task, integration actions, http_request with integration_id) in this process."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.step_calls import integration_action, integration_http_call, integration_llm_call
from orchestrator.step_types.agent import AgentTaskStep
from orchestrator.step_types.execution import StepContext, StepError
from orchestrator.step_types.http import HttpRequestStep
from orchestrator.step_types.integration import IntegrationStep
from tests.integrations.conftest import (
    ALL_SECRETS,
    HTTP_TOKEN,
    LLM_KEY,
    SMTP_PASSWORD,
    http_config,
    llm_config,
    slack_config,
    smtp_config,
)

# The local SMTP server takes AUTH without TLS on purpose (no certificate to trust in tests).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def ctx_for(user) -> StepContext:
    return StepContext(
        run_id="run_x", step_run_id="sr_x", step_id="s", tenant_id=user.tenant_id, workflow_id="wf_x",
        attempt=1, timeout_seconds=10,
    )  # fmt: skip


def assert_no_secret(*values) -> None:
    text = json.dumps(values, default=str)
    for secret in ALL_SECRETS:
        assert secret not in text


# --- POST /api/integrations/{id}/test ------------------------------------------------------


def test_a_slack_test_calls_auth_test_with_the_token(admin_client, admin_user, apis, make_integration):
    integration = make_integration(admin_user, "slack", slack_config(apis))

    response = admin_client.post(f"/api/integrations/{integration.id}/test")

    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Slack auth.test succeeded (orchestrator-bot Acme)."}
    assert apis.server.count("/slack/auth.test") == 1


def test_a_slack_test_with_a_bad_token_fails_without_quoting_it(admin_client, admin_user, apis, make_integration):
    integration = make_integration(admin_user, "slack", slack_config(apis, token="xoxb-wrong-token-000"))

    response = admin_client.post(f"/api/integrations/{integration.id}/test")

    assert response.json() == {"success": False, "message": "Slack auth.test failed: invalid_auth"}


def test_an_llm_test_lists_the_models(admin_client, admin_user, apis, make_integration):
    integration = make_integration(admin_user, "llm", llm_config(apis))

    response = admin_client.post(f"/api/integrations/{integration.id}/test").json()

    assert response == {"success": True, "message": "Connected: 1 models available, 'gpt-test' among them."}


def test_an_llm_test_with_a_bad_key_fails_and_the_echoed_key_is_masked(
    admin_client, admin_user, apis, make_integration
):
    wrong = "sk-wrong-key-abcdefghijkl"
    integration = make_integration(admin_user, "llm", llm_config(apis, key=wrong))

    response = admin_client.post(f"/api/integrations/{integration.id}/test").json()

    assert response["success"] is False
    assert "401" in response["message"] and "the API key was rejected" in response["message"]
    assert wrong not in response["message"] and "[REDACTED]" in response["message"]


def test_an_llm_without_a_model_list_is_tested_with_a_tiny_completion(admin_client, admin_user, apis, make_integration):
    apis.server.routes["/v1/models"] = (404, {"error": {"message": "not here"}})
    integration = make_integration(admin_user, "llm", llm_config(apis))

    response = admin_client.post(f"/api/integrations/{integration.id}/test").json()

    assert response == {"success": True, "message": "Chat completion with gpt-test succeeded."}
    assert apis.chat_requests[0]["max_tokens"] == 1


def test_an_http_test_gets_the_base_url_with_the_bearer_token(admin_client, admin_user, apis, make_integration):
    good = make_integration(admin_user, "http", http_config(apis), name="good")
    bad = make_integration(admin_user, "http", http_config(apis, token="nope-nope-nope"), name="bad")

    ok = admin_client.post(f"/api/integrations/{good.id}/test").json()
    rejected = admin_client.post(f"/api/integrations/{bad.id}/test").json()

    assert ok == {"success": True, "message": f"GET {apis.http_base} answered 200."}
    assert rejected == {
        "success": False,
        "message": f"GET {apis.http_base} answered 401: the credentials were rejected.",
    }


def test_an_smtp_test_connects_and_logs_in(admin_client, admin_user, smtp_server, make_integration):
    integration = make_integration(admin_user, "smtp", smtp_config(smtp_server))

    response = admin_client.post(f"/api/integrations/{integration.id}/test").json()

    assert response == {"success": True, "message": f"Connected to 127.0.0.1:{smtp_server.port}, logged in as robot."}
    assert smtp_server.logins and smtp_server.logins[0][0] == "robot"


def test_an_smtp_test_with_a_wrong_password_fails(admin_client, admin_user, smtp_server, make_integration):
    integration = make_integration(admin_user, "smtp", smtp_config(smtp_server, password="wrong-password-1"))

    response = admin_client.post(f"/api/integrations/{integration.id}/test").json()

    assert response["success"] is False
    assert response["message"].startswith(f"SMTP login to 127.0.0.1:{smtp_server.port} failed: 535")
    assert "wrong-password-1" not in response["message"]


def test_an_unreachable_provider_is_a_failure_not_an_error(admin_client, admin_user, make_integration):
    from tests.live import free_port

    config = {"base_url": f"http://127.0.0.1:{free_port()}/api", "auth_type": "bearer", "token": HTTP_TOKEN}
    integration = make_integration(admin_user, "http", config)

    response = admin_client.post(f"/api/integrations/{integration.id}/test")

    assert response.status_code == 200 and response.json()["success"] is False
    assert "failed" in response.json()["message"]


@pytest.mark.parametrize("type_name", ["slack", "http", "llm", "smtp"])
def test_private_addresses_are_refused_without_allow_private_networks(
    admin_client, admin_user, apis, smtp_server, make_integration, settings, type_name
):
    configs = {
        "slack": slack_config(apis),
        "http": http_config(apis),
        "llm": llm_config(apis),
        "smtp": smtp_config(smtp_server),
    }
    integration = make_integration(admin_user, type_name, configs[type_name])
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = False

    response = admin_client.post(f"/api/integrations/{integration.id}/test").json()

    assert response["success"] is False
    assert "Refused to connect to 127.0.0.1" in response["message"]
    assert apis.server.requests == [] and smtp_server.logins == []


# --- agent_task ---------------------------------------------------------------------------


def test_an_agent_task_calls_chat_completions_and_records_usage(member, admin_user, apis, make_integration):
    integration = make_integration(admin_user, "llm", llm_config(apis), name="openai")
    ctx = ctx_for(member)
    config = {
        "agent_id": "openai",  # by name
        "goal": "Summarize",
        "input": {"items": [1, 2]},
        "system_prompt": "Be brief.",
        "temperature": 0,
        "max_tokens": 50,
    }

    output = AgentTaskStep().execute(ctx, config)

    assert output == {
        "text": "A short summary.",
        "model": "gpt-test",
        "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
        "finish_reason": "stop",
        "integration_id": integration.id,
    }
    sent = apis.chat_requests[0]
    assert sent["model"] == "gpt-test" and sent["temperature"] == 0 and sent["max_tokens"] == 50
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["messages"][1]["content"] == 'Summarize\n\nInput:\n{"items": [1, 2]}'
    assert "response_format" not in sent
    assert ctx.log_lines == [f"llm gpt-test via {integration.id}: 42 prompt + 7 completion = 49 tokens"]


def test_an_agent_task_with_json_format_parses_the_answer(member, admin_user, apis, make_integration):
    make_integration(admin_user, "llm", llm_config(apis))
    apis.llm_answer = '```json\n{"label": "bug"}\n```'

    output = AgentTaskStep().execute(ctx_for(member), {"goal": "Classify", "response_format": "json", "model": "m2"})

    assert output["json"] == {"label": "bug"} and output["model"] == "m2"
    assert apis.chat_requests[0]["response_format"] == {"type": "json_object"}
    assert "JSON" in apis.chat_requests[0]["messages"][0]["content"]


def test_an_agent_task_whose_answer_is_not_json_fails_clearly(member, admin_user, apis, make_integration):
    make_integration(admin_user, "llm", llm_config(apis))
    apis.llm_answer = "Sure! The label is bug."

    with pytest.raises(StepError, match="The model's answer is not valid JSON"):
        AgentTaskStep().execute(ctx_for(member), {"goal": "Classify", "response_format": "json"})


def test_an_agent_task_without_any_llm_integration_fails_clearly(member):
    with pytest.raises(StepError, match="No llm integration is configured for agent_task"):
        AgentTaskStep().execute(ctx_for(member), {"goal": "Summarize"})


def test_an_agent_task_naming_an_unknown_agent_fails_clearly(member):
    with pytest.raises(StepError, match="Integration 'agent_123' was not found in this tenant"):
        AgentTaskStep().execute(ctx_for(member), {"agent_id": "agent_123", "goal": "Summarize"})


def test_an_agent_task_naming_a_non_llm_integration_fails_clearly(member, admin_user, apis, make_integration):
    slack = make_integration(admin_user, "slack", slack_config(apis))

    with pytest.raises(StepError, match="agent_task needs an integration of type llm; .* is of type slack"):
        AgentTaskStep().execute(ctx_for(member), {"agent_id": slack.id, "goal": "Summarize"})


def test_an_agent_task_with_several_llm_integrations_must_name_one(member, admin_user, apis, make_integration):
    make_integration(admin_user, "llm", llm_config(apis), name="a")
    make_integration(admin_user, "llm", llm_config(apis), name="b")

    with pytest.raises(StepError, match="several llm integrations"):
        AgentTaskStep().execute(ctx_for(member), {"goal": "Summarize"})


def test_another_tenants_llm_integration_is_not_found(member, outsider, apis, make_integration):
    theirs = make_integration(outsider, "llm", llm_config(apis))

    with pytest.raises(StepError, match="was not found in this tenant"):
        integration_llm_call(ctx_for(member), {"agent_id": theirs.id, "goal": "Summarize"})


def test_a_rejected_key_fails_the_agent_without_the_key_in_the_error(member, admin_user, apis, make_integration):
    wrong = "sk-wrong-key-abcdefghijkl"
    make_integration(admin_user, "llm", llm_config(apis, key=wrong))

    with pytest.raises(StepError) as caught:
        AgentTaskStep().execute(ctx_for(member), {"goal": "Summarize"})

    assert caught.value.kind == "4xx" and "HTTP 401" in caught.value.message
    assert wrong not in caught.value.message


# --- integration actions ----------------------------------------------------------------------


def test_slack_post_message_posts_with_the_token(member, admin_user, apis, make_integration):
    integration = make_integration(admin_user, "slack", slack_config(apis))
    ctx = ctx_for(member)
    config = {
        "integration_id": integration.id,
        "action": "slack.post_message",
        "channel": "#deployments",
        "message": "Done!",
    }

    output = IntegrationStep().execute(ctx, config)

    assert output["ok"] is True and output["channel"] == "C0123"
    assert apis.slack_messages == [{"channel": "#deployments", "text": "Done!"}]
    assert ctx.log_lines == [f"slack.post_message via {integration.id} ({integration.name})"]


def test_slack_errors_are_step_errors(member, admin_user, apis, make_integration):
    make_integration(admin_user, "slack", slack_config(apis))

    with pytest.raises(StepError, match="needs a channel"):
        integration_action(ctx_for(member), {"action": "slack.post_message", "params": {"text": "hi"}})


def test_email_send_delivers_through_smtp_with_login(member, admin_user, smtp_server, make_integration):
    make_integration(admin_user, "smtp", smtp_config(smtp_server))
    params = {"to": ["ops@example.com", "Dev <dev@example.com>"], "subject": "Report", "body": "All green."}

    output = integration_action(ctx_for(member), {"action": "email.send", "params": params})

    assert output["accepted"] == ["ops@example.com", "dev@example.com"] and output["refused"] == {}
    [envelope] = smtp_server.messages
    assert envelope.mail_from == "robot@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "dev@example.com"]
    text = envelope.content.decode()
    assert "Subject: Report" in text and "All green." in text
    assert SMTP_PASSWORD not in json.dumps(output)


def test_email_send_needs_a_recipient(member, admin_user, smtp_server, make_integration):
    make_integration(admin_user, "smtp", smtp_config(smtp_server))

    with pytest.raises(StepError, match="needs a recipient"):
        integration_action(ctx_for(member), {"action": "email.send", "params": {"subject": "x"}})


def test_http_request_action_calls_a_path_under_the_base_url(member, admin_user, apis, make_integration):
    make_integration(admin_user, "http", http_config(apis))

    output = integration_action(
        ctx_for(member), {"action": "http.request", "params": {"method": "POST", "path": "/items", "json": {"a": 1}}}
    )

    assert output["status_code"] == 200 and output["body"] == {"items": [1, 2, 3]}
    assert json.loads(apis.api_requests[0]["body"]) == {"a": 1}


def test_an_unknown_action_or_a_mismatched_integration_fails_clearly(member, admin_user, apis, make_integration):
    slack = make_integration(admin_user, "slack", slack_config(apis))

    with pytest.raises(StepError, match="Unknown action 'jira.create'; known actions: email.send"):
        integration_action(ctx_for(member), {"action": "jira.create"})
    with pytest.raises(StepError, match="email.send needs an integration of type smtp"):
        integration_action(ctx_for(member), {"action": "email.send", "integration_id": slack.id, "to": "a@b.c"})


# --- http_request with integration_id ------------------------------------------------------------


def test_an_http_request_step_gets_the_integrations_auth_and_resolves_a_relative_url(
    member, admin_user, apis, make_integration
):
    integration = make_integration(admin_user, "http", http_config(apis))

    output = HttpRequestStep().execute(ctx_for(member), {"url": "/items", "integration_id": integration.id})

    assert output["status_code"] == 200 and output["body"] == {"items": [1, 2, 3]}
    assert apis.server.requests[0]["path"] == "/api/items"


def test_an_echoed_credential_is_masked_in_the_step_output(member, admin_user, apis, make_integration):
    integration = make_integration(admin_user, "http", http_config(apis))

    output = HttpRequestStep().execute(ctx_for(member), {"url": "echo", "integration_id": integration.id})

    echoed = {k.lower(): v for k, v in output["body"]["headers"].items()}
    assert echoed["authorization"] == "Bearer [REDACTED]"
    assert_no_secret(output)


def test_credentials_are_only_sent_to_the_integrations_origin(member, admin_user, apis, make_integration):
    integration = make_integration(admin_user, "http", http_config(apis))

    with pytest.raises(StepError, match="is not on the integration's base URL"):
        HttpRequestStep().execute(ctx_for(member), {"url": "http://localhost:1/x", "integration_id": integration.id})


@pytest.fixture
def redirecting_server(http_server):
    """``/away`` redirects to the echo route of ``http_server`` under another origin (localhost),
    ``/home`` to its own ``/echo``; ``/echo`` answers the request headers it got."""
    away = f"{http_server.url.replace('127.0.0.1', 'localhost')}/api/echo"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.path in ("/away", "/home"):
                self.send_response(302)
                self.send_header("Location", away if self.path == "/away" else "/echo")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            payload = json.dumps({"headers": dict(self.headers)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http_server.routes["/api/echo"] = lambda attempt, raw, headers: (200, {"headers": dict(headers)})
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_redirect_to_another_origin_drops_the_credentials(member, admin_user, redirecting_server, make_integration):
    config = {
        "base_url": redirecting_server,
        "auth_type": "header",
        "header_name": "X-Api-Key",
        "header_value": HTTP_TOKEN,
    }
    make_integration(admin_user, "http", config)

    away = integration_action(ctx_for(member), {"action": "http.request", "path": "/away"})
    home = integration_action(ctx_for(member), {"action": "http.request", "path": "/home"})

    assert {k.lower() for k in away["body"]["headers"]} & {"x-api-key", "authorization"} == set()
    assert {k.lower(): v for k, v in home["body"]["headers"].items()}["x-api-key"] == "[REDACTED]"


def test_an_llm_or_slack_integration_also_gives_http_auth(member, admin_user, apis, make_integration):
    llm = make_integration(admin_user, "llm", llm_config(apis))

    result = integration_http_call(ctx_for(member), llm.id, "GET", "/models")

    assert result.status_code == 200
    assert json.loads(result.content)["data"][0]["id"] == "gpt-test"
    assert LLM_KEY not in result.content.decode()


def test_integration_http_auth_resolves_the_url_and_adds_the_auth(member, admin_user, apis, make_integration):
    from integrations.step_calls import integration_http_auth

    integration = make_integration(admin_user, "http", http_config(apis))

    url, headers = integration_http_auth(ctx_for(member), integration.id, "items", {"Authorization": "x", "X-A": "1"})

    assert url == f"{apis.http_base}/items"
    assert headers == {"X-A": "1", "Authorization": f"Bearer {HTTP_TOKEN}"}
