from __future__ import annotations

import itertools

import pytest
from jsonschema import Draft202012Validator

from orchestrator.definitions.schema_check import SchemaCheck, compile_check
from orchestrator.step_types import AlreadyRegistered, StepType, registry
from orchestrator.step_types.registry import StepTypeRegistry

TYPE_NAMES = [
    "manual_trigger",
    "http_request",
    "webhook",
    "script",
    "agent_task",
    "condition",
    "loop",
    "wait",
    "transform",
    "integration",
    "sub_workflow",
]
ALL_TYPES = registry.all()


def test_the_registry_lists_every_type_in_registration_order():
    assert [t.name for t in registry.all()] == TYPE_NAMES


def test_the_registry_answers_none_for_an_unknown_type():
    assert registry.get("teleport") is None


def test_the_registry_refuses_a_duplicate_name():
    local = StepTypeRegistry()

    @local.register
    class First(StepType):
        name = "same"

    with pytest.raises(AlreadyRegistered, match="'same'"):

        @local.register
        class Second(StepType):
            name = "same"


def test_register_as_a_decorator_returns_the_class():
    local = StepTypeRegistry()

    class Thing(StepType):
        name = "thing"

    assert local.register(Thing) is Thing
    assert local.get("thing") is Thing


def test_the_base_step_type_defines_no_executor():
    assert not hasattr(StepType, "execute")


@pytest.mark.parametrize("step_type", ALL_TYPES, ids=lambda t: t.name)
def test_describe_gives_the_documented_keys(step_type):
    assert set(step_type.describe()) == {
        "type",
        "name",
        "category",
        "description",
        "enabled",
        "config_schema",
        "output_schema",
        "examples",
    }


@pytest.mark.parametrize("step_type", ALL_TYPES, ids=lambda t: t.name)
def test_every_type_has_a_human_name_category_and_description(step_type):
    described = step_type.describe()
    assert described["name"] and described["category"] and described["description"]


@pytest.mark.parametrize("step_type", ALL_TYPES, ids=lambda t: t.name)
def test_every_schema_is_a_valid_json_schema(step_type):
    Draft202012Validator.check_schema(step_type.config_schema)
    Draft202012Validator.check_schema(step_type.output_schema)


@pytest.mark.parametrize(
    ("step_type", "example"),
    [(t, e) for t in ALL_TYPES for e in t.examples],
    ids=lambda v: getattr(v, "name", ""),
)
def test_every_example_config_passes_its_own_schema(step_type, example):
    assert SchemaCheck(step_type.config_schema).errors(example, "config") == []
    assert step_type.config_problems(example) == []


@pytest.mark.parametrize("step_type", ALL_TYPES, ids=lambda t: t.name)
def test_every_type_has_an_example(step_type):
    assert step_type.examples


def test_the_script_type_is_off_unless_the_setting_is_on(settings):
    settings.ORCHESTRATOR_ENABLE_SCRIPTS = False
    script = registry.get("script")
    assert script.enabled() is False
    assert script.disabled_reason() == "set ORCHESTRATOR_ENABLE_SCRIPTS=true to enable it"
    assert script.describe()["enabled"] is False


def test_the_script_type_is_on_when_the_setting_is_on(settings):
    settings.ORCHESTRATOR_ENABLE_SCRIPTS = True
    assert registry.get("script").enabled() is True
    assert registry.get("script").disabled_reason() == ""


def test_an_integration_takes_extra_keys_as_params_and_needs_no_integration_id():
    config = {"action": "slack.post_message", "channel": "#deployments", "message": "Done"}
    assert SchemaCheck(registry.get("integration").config_schema).errors(config, "config") == []


def test_an_integration_action_must_name_provider_and_action():
    errors = SchemaCheck(registry.get("integration").config_schema).errors({"action": "post"}, "config")
    assert errors == ["'post' is not an action like 'slack.post_message' (provider.action) at config.action"]


def test_a_condition_needs_an_expression_or_a_field():
    errors = SchemaCheck(registry.get("condition").config_schema).errors({"value": 1}, "config")
    assert errors == ["needs either an 'expression', or a 'field' with an 'operator' (not both) at config"]


def test_a_condition_field_needs_an_operator():
    errors = SchemaCheck(registry.get("condition").config_schema).errors({"field": "input.a"}, "config")
    assert errors == ["'operator' is a dependency of 'field' at config"]


def test_a_condition_with_an_invalid_regex_is_reported():
    config = {"field": "input.email", "operator": "matches", "value": "(unclosed"}
    (problem,) = registry.get("condition").config_problems(config)
    assert problem.startswith("'(unclosed' is not a valid regular expression") and problem.endswith("at config.value")


def test_expected_status_takes_a_code_or_a_list_of_codes():
    check = SchemaCheck(registry.get("http_request").config_schema)
    assert check.errors({"url": "u", "expected_status": 201}, "config") == []
    assert check.errors({"url": "u", "expected_status": [200, 204]}, "config") == []
    assert check.errors({"url": "u", "expected_status": 42}, "config") == [
        "42 is not an HTTP status code, a list of them, or a {{ template }} at config.expected_status"
    ]


def test_an_http_request_takes_only_one_kind_of_body():
    errors = SchemaCheck(registry.get("http_request").config_schema).errors(
        {"url": "u", "json": {}, "body": "x"}, "config"
    )
    assert errors == ["give only one of json, body or form at config"]


def test_a_wait_until_must_be_an_iso_time():
    assert registry.get("wait").config_problems({"until": "next tuesday"}) == [
        "'next tuesday' is not an ISO 8601 time at config.until"
    ]


# The compiled predicate must never call valid what jsonschema calls invalid.
SAMPLE_VALUES = [None, True, 0, 1, 2.5, 600, 5000, "", "x", "GET", "get", "{{ x }}", "a.b", "python", "json",
                 "equals", [], [200], ["a", "a"], ["a", "b"], {}, {"a": "b"}, {"a": [1]}, {"type": "wait"}]  # fmt: skip


@pytest.mark.parametrize("step_type", ALL_TYPES, ids=lambda t: t.name)
def test_the_fast_schema_check_agrees_with_jsonschema(step_type):
    fast = compile_check(step_type.config_schema)
    validator = Draft202012Validator(step_type.config_schema)
    keys = list(step_type.config_schema.get("properties", {}))[:5] + ["extra"]
    for key_a, key_b in itertools.combinations(keys, 2):
        for value_a, value_b in itertools.product(SAMPLE_VALUES, repeat=2):
            config = {key_a: value_a, key_b: value_b}
            if fast(config):
                assert validator.is_valid(config), config
