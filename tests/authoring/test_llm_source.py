"""The llm source of parse and generate, against a local OpenAI-compatible server: the prompt
it sends, one repair round with the validation errors, and the fall back to the rules."""

from __future__ import annotations

import json

import pytest

from tests.integrations.conftest import LLM_KEY, header, llm_config

pytestmark = pytest.mark.django_db

INSTRUCTION = "Every day at 8am fetch https://api.example.com/data and summarize it"
GOOD = {
    "name": "Daily data summary",
    "description": "Fetch the data and summarize it.",
    "schedule": {"cron_expression": "0 8 * * *", "timezone": "Europe/Paris"},
    "steps": [
        {"id": "fetch", "type": "http_request", "config": {"method": "GET", "url": "https://api.example.com/data"}},
        {
            "id": "summarize",
            "type": "agent_task",
            "depends_on": ["fetch"],
            "config": {"goal": "Summarize the data", "input": "{{ steps.fetch.output.body }}"},
        },
    ],
    "confidence": 0.8,
}
BROKEN = {
    "name": "Broken",
    "description": "",
    "steps": [
        {"id": "fetch", "type": "http_get", "config": {}},
        {"id": "summarize", "type": "agent_task", "depends_on": ["nowhere"], "config": {"goal": "x"}},
    ],
}


class Model:
    """The chat-completions route: answers in turn from ``answers``, records every request."""

    def __init__(self, server, answers: list[str]) -> None:
        self.answers = list(answers)
        self.requests: list[dict] = []
        server.routes["/v1/chat/completions"] = self.reply

    def reply(self, attempt, raw, headers):
        if header(headers, "Authorization") != f"Bearer {LLM_KEY}":
            given = (header(headers, "Authorization") or "").removeprefix("Bearer ")
            return 401, {"error": {"message": f"Incorrect API key provided: {given}"}}
        body = json.loads(raw)
        self.requests.append(body)
        text = self.answers.pop(0) if self.answers else "{}"
        return 200, {
            "id": "chatcmpl-1",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }


@pytest.fixture
def llm(admin_user, make_integration, apis):
    return make_integration(admin_user, "llm", llm_config(apis), "Model")


def parse(client, instruction=INSTRUCTION, **context):
    return client.post("/api/workflows/parse", {"instruction": instruction, "context": context}, format="json")


def test_the_model_writes_the_workflow(api_client, llm, http_server):
    model = Model(http_server, [json.dumps(GOOD)])
    response = parse(api_client, availableTools=["jira.create_issue"])
    assert response.status_code == 200, response.content
    workflow = response.json()["workflow"]
    assert workflow["source"] == "llm" and workflow["type"] == "generated" and workflow["valid"] is True
    assert [s["id"] for s in workflow["steps"]] == ["fetch", "summarize"] and workflow["name"] == "Daily data summary"
    assert workflow["schedule"] == {
        "cron_expression": "0 8 * * *",
        "timezone": "Europe/Paris",
        "description": "Every day at 08:00 (Europe/Paris)",
    }
    assert workflow["confidence"] == 0.8 and workflow["trigger_type"] == "schedule"
    assert f"through integration {llm.id}" in workflow["notes"][0]
    (sent,) = model.requests
    assert (
        sent["model"] == "gpt-test" and sent["response_format"] == {"type": "json_object"} and sent["temperature"] == 0
    )
    system, user = sent["messages"]
    assert user == {"role": "user", "content": INSTRUCTION}
    assert '"const":"http_request"' in system["content"] and "jira.create_issue" in system["content"]


def test_invalid_answers_are_repaired_once_with_the_validation_errors(api_client, llm, http_server):
    model = Model(http_server, [json.dumps(BROKEN), "```json\n" + json.dumps(GOOD) + "\n```"])
    workflow = parse(api_client).json()["workflow"]
    assert workflow["source"] == "llm" and workflow["confidence"] == 0.75
    assert "after one repair" in workflow["notes"][0]
    assert len(model.requests) == 2
    repair = model.requests[1]["messages"]
    assert repair[2] == {"role": "assistant", "content": json.dumps(BROKEN)}
    problems = repair[3]["content"]
    assert "unknown type 'http_get'" in problems and "depends on 'nowhere' which doesn't exist" in problems


def test_a_schedule_the_schedules_api_would_refuse_is_repaired_too(api_client, llm, http_server):
    bad = {**GOOD, "schedule": {"cron_expression": "at 8", "timezone": "Mars/Olympus"}}
    model = Model(http_server, [json.dumps(bad), json.dumps(GOOD)])
    assert parse(api_client).json()["workflow"]["source"] == "llm"
    assert "schedule.timezone" in model.requests[1]["messages"][3]["content"]


@pytest.mark.parametrize("answers", [[json.dumps(BROKEN), json.dumps(BROKEN)], ["I cannot help with that.", "Sorry."]])
def test_twice_invalid_falls_back_to_the_rules(api_client, llm, http_server, answers):
    model = Model(http_server, answers)
    workflow = parse(api_client).json()["workflow"]
    assert len(model.requests) == 2
    assert workflow["source"] == "rules" and workflow["valid"] is True
    assert [s["type"] for s in workflow["steps"]] == ["http_request", "agent_task"]
    assert workflow["notes"][0].startswith("The llm source failed (gpt-test gave no valid definition after one repair")
    assert workflow["notes"][0].endswith("the rules answered instead.")


def test_a_provider_error_falls_back_without_leaking_the_key(
    admin_client, admin_user, make_integration, apis, http_server
):
    Model(http_server, [])
    make_integration(admin_user, "llm", llm_config(apis, key="sk-wrong-but-secret-0000"), "Model")
    response = parse(admin_client)
    workflow = response.json()["workflow"]
    assert workflow["source"] == "rules"
    assert "401" in workflow["notes"][0] and "the API key was rejected" in workflow["notes"][0]
    assert "sk-wrong-but-secret-0000" not in response.content.decode()


def test_nonsense_the_model_cannot_fix_is_a_422_naming_both(api_client, llm, http_server):
    Model(http_server, ["no", "still no"])
    response = parse(api_client, instruction="lorem ipsum dolor sit amet")
    assert response.status_code == 422
    assert "llm" in response.json()["error"]["details"]


def test_the_source_and_integration_can_be_chosen(api_client, admin_user, make_integration, apis, http_server):
    model = Model(http_server, [json.dumps(GOOD)])
    slack = make_integration(admin_user, "slack", {"token": "xoxb-1"}, "Slack")
    assert parse(api_client, source="llm").status_code == 400  # no llm integration yet
    response = parse(api_client, integration_id=slack.id)
    assert response.status_code == 400 and "must name an llm integration" in response.json()["error"]["message"]
    make_integration(admin_user, "llm", {**llm_config(apis), "base_url": "http://127.0.0.1:9/v1"}, "Unreachable")
    chosen = make_integration(admin_user, "llm", llm_config(apis), "Chosen")
    workflow = parse(api_client, integration_id="Chosen").json()["workflow"]
    assert workflow["source"] == "llm" and chosen.id in workflow["notes"][0]
    assert parse(api_client, source="rules").json()["workflow"]["source"] == "rules"
    assert len(model.requests) == 1


def test_a_template_named_outright_is_taken_without_asking_the_model(api_client, llm, http_server):
    model = Model(http_server, [json.dumps(GOOD)])
    workflow = parse(api_client, instruction="GitHub issues triage").json()["workflow"]
    assert workflow["source"] == "template" and model.requests == []


def test_generate_streams_what_the_model_wrote(api_client, llm, http_server):
    Model(http_server, [json.dumps(GOOD)])
    response = api_client.post("/api/workflows/generate", {"prompt": INSTRUCTION}, format="json")
    ops = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert ops[0] == {"op": "setName", "name": "Daily data summary"}
    assert ops[2]["op"] == "setSchedule" and ops[2]["schedule"]["timezone"] == "Europe/Paris"
    assert ops[-1]["op"] == "done" and ops[-1]["workflow"]["source"] == "llm"
