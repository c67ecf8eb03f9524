from __future__ import annotations

import copy

from orchestrator.definitions import definition_normalize
from tests.unit.seeds import DEPLOY_NOTIFICATION, EDITOR_EMPTY, EDITOR_WORKFLOW, FETCH_AND_NOTIFY

EMPTY_INPUTS = {"type": "object", "properties": {}}


def test_the_fetch_and_notify_seed_normalizes_to_the_canonical_form():
    assert definition_normalize(FETCH_AND_NOTIFY) == {
        "name": "Fetch and notify",
        "inputs": EMPTY_INPUTS,
        "outputs": {},
        "settings": {},
        "steps": [
            {
                "id": "fetch",
                "type": "http_request",
                "name": "fetch",
                "config": {"method": "GET", "url": "https://api.example.com/data"},
                "depends_on": [],
            },
            {
                "id": "notify",
                "type": "agent_task",
                "name": "notify",
                "config": {"agent_id": "agent_123", "goal": "Summarize the fetched data and post to Slack"},
                "depends_on": ["fetch"],
            },
        ],
    }


def test_the_deploy_notification_seed_normalizes_to_the_canonical_form():
    assert definition_normalize(DEPLOY_NOTIFICATION) == {
        "inputs": {},
        "outputs": {},
        "settings": {},
        "steps": [
            {
                "id": "step_1",
                "type": "condition",
                "name": "step_1",
                "config": {
                    "action": "check_status",
                    "field": "$.deployment.status",
                    "operator": "equals",
                    "value": "success",
                },
                "depends_on": [],
            },
            {
                "id": "step_2",
                "type": "integration",
                "name": "step_2",
                "config": {
                    "action": "slack.post_message",
                    "channel": "#deployments",
                    "message": "Deployment completed successfully!",
                },
                "depends_on": ["step_1"],
            },
        ],
    }


def test_the_editor_seed_with_nodes_and_edges_normalizes_to_the_canonical_form():
    assert definition_normalize(EDITOR_WORKFLOW) == {
        "name": "My Workflow",
        "description": "Optional description",
        "inputs": EMPTY_INPUTS,
        "outputs": {},
        "settings": {},
        "steps": [
            {
                "id": "trigger",
                "type": "manual_trigger",
                "name": "Manual",
                "config": {"triggerType": "Manual"},
                "depends_on": [],
            },
            {
                "id": "fetch",
                "type": "http_request",
                "name": "Fetch data",
                "config": {"actionType": "HTTP Request", "method": "GET", "url": "https://api.example.com/data"},
                "depends_on": ["trigger"],
            },
            {
                "id": "summarize",
                "type": "agent_task",
                "name": "Summarize",
                "config": {"goal": "Summarize {{ steps.fetch.output.body | tojson }}"},
                "depends_on": ["fetch"],
            },
        ],
    }


def test_the_editor_seeds_empty_create_body_normalizes_to_no_steps():
    assert definition_normalize(EDITOR_EMPTY)["steps"] == []


def test_canonical_keys_come_in_the_documented_order():
    definition = definition_normalize(
        {"steps": [{"timeout_seconds": 5, "config": {}, "when": "true", "type": "wait", "id": "w"}], "name": "n"}
    )
    assert list(definition) == ["name", "inputs", "outputs", "settings", "steps"]
    assert list(definition["steps"][0]) == ["id", "type", "name", "config", "depends_on", "when", "timeout_seconds"]


def test_an_input_from_string_becomes_depends_on():
    step = definition_normalize({"steps": [{"id": "b", "type": "wait", "input_from": "a"}]})["steps"][0]
    assert step["depends_on"] == ["a"]


def test_input_from_and_edges_merge_into_depends_on_without_duplicates_in_order():
    raw = {
        "nodes": [{"id": "d", "type": "wait", "depends_on": ["a"], "input_from": ["b", "a"]}],
        "edges": [{"from": "c", "to": "d"}, {"source": "b", "target": "d"}],
    }
    assert definition_normalize(raw)["steps"][0]["depends_on"] == ["a", "b", "c"]


def test_steps_win_over_nodes_when_both_are_given():
    raw = {"steps": [{"id": "s", "type": "wait"}], "nodes": [{"id": "n", "type": "wait"}]}
    assert [s["id"] for s in definition_normalize(raw)["steps"]] == ["s"]


def test_an_action_already_in_config_wins_over_the_steps_action():
    step = definition_normalize(
        {"steps": [{"id": "x", "type": "integration", "action": "a.b", "config": {"action": "c.d"}}]}
    )
    assert step["steps"][0]["config"] == {"action": "c.d"}


def test_empty_inputs_stay_empty():
    assert definition_normalize({"steps": [], "inputs": {}})["inputs"] == {}


def test_null_optional_keys_are_dropped():
    step = definition_normalize({"steps": [{"id": "x", "type": "wait", "when": None, "retry": None}]})["steps"][0]
    assert "when" not in step and "retry" not in step


def test_ui_only_keys_are_dropped():
    step = definition_normalize({"nodes": [{"id": "x", "type": "wait", "position": {"x": 1}, "selected": True}]})[
        "steps"
    ][0]
    assert set(step) == {"id", "type", "name", "config", "depends_on"}


def test_a_non_dict_definition_passes_through():
    assert definition_normalize(["not", "a", "definition"]) == ["not", "a", "definition"]


def test_steps_that_are_not_a_list_pass_through():
    assert definition_normalize({"steps": "nope"})["steps"] == "nope"


def test_a_step_that_is_not_a_dict_passes_through():
    assert definition_normalize({"steps": [42]})["steps"] == [42]


def test_a_non_string_id_passes_through():
    assert definition_normalize({"steps": [{"id": 7, "type": "wait"}]})["steps"][0]["id"] == 7


def test_an_edge_to_an_unknown_step_is_kept_for_validation():
    definition = definition_normalize(
        {"steps": [{"id": "a", "type": "wait"}], "edges": [{"source": "a", "target": "zz"}]}
    )
    assert definition["edges"] == [{"source": "a", "target": "zz"}]


def test_normalizing_twice_changes_nothing():
    once = definition_normalize(EDITOR_WORKFLOW)
    assert definition_normalize(once) == once


def test_normalizing_does_not_modify_its_input():
    raw = copy.deepcopy(EDITOR_WORKFLOW)
    definition_normalize(raw)
    assert raw == EDITOR_WORKFLOW
