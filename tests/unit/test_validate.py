from __future__ import annotations

import pytest

from orchestrator.benchmarks.validation import build_definition
from orchestrator.definitions import (
    CycleError,
    definition_errors,
    definition_normalize,
    downstream_of,
    sink_steps,
    topological_order,
    upstream_of,
)
from tests.unit.seeds import DEPLOY_NOTIFICATION, EDITOR_WORKFLOW, FETCH_AND_NOTIFY


def errors_of(raw: dict) -> list[str]:
    return definition_errors(definition_normalize(raw))


def http(step_id: str, *deps: str, **extra) -> dict:
    return {
        "id": step_id,
        "type": "http_request",
        "config": {"url": "https://example.com"},
        "depends_on": list(deps),
        **extra,
    }


@pytest.mark.parametrize("seed", [FETCH_AND_NOTIFY, DEPLOY_NOTIFICATION, EDITOR_WORKFLOW], ids=["001", "004", "002"])
def test_the_seed_definitions_are_valid(seed):
    assert errors_of(seed) == []


def test_the_spec_example_is_valid():
    definition = {
        "name": "Fetch and notify",
        "inputs": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
        "outputs": {"summary": "{{ steps.notify.output.text }}"},
        "settings": {"max_concurrent_runs": 10, "timeout_seconds": 3600},
        "steps": [
            {
                "id": "fetch",
                "type": "http_request",
                "name": "Fetch",
                "config": {"method": "GET", "url": "{{ input.url }}"},
                "retry": {
                    "max_attempts": 3,
                    "backoff": "exponential",
                    "initial_interval_seconds": 1,
                    "max_interval_seconds": 60,
                    "retry_on": ["network", "timeout", "5xx", "429"],
                },
                "timeout_seconds": 30,
            },
            {
                "id": "notify",
                "type": "agent_task",
                "depends_on": ["fetch"],
                "when": "{{ steps.fetch.output.status_code == 200 }}",
                "trigger_rule": "all_success",
                "continue_on_error": False,
                "config": {"goal": "Summarize {{ steps.fetch.output.body | tojson }}"},
            },
        ],
    }
    assert errors_of(definition) == []


def test_a_definition_that_is_not_an_object_is_reported():
    assert definition_errors(["x"]) == ["Workflow definition must be a JSON object"]


def test_a_definition_without_steps_is_reported():
    assert errors_of({"steps": []}) == ["Workflow must have at least one step"]


def test_steps_that_are_not_a_list_are_reported():
    assert errors_of({"steps": {"a": 1}}) == ["Workflow steps must be a list"]


def test_a_step_that_is_not_an_object_is_reported():
    assert errors_of({"steps": [http("a"), "b"]}) == ["Step #2 must be an object"]


def test_a_missing_dependency_is_reported_in_the_spec_wording():
    assert errors_of({"steps": [http("notify", "fetch")]}) == ["Step 'notify' depends on 'fetch' which doesn't exist"]


def test_a_cycle_is_reported_with_arrows():
    errors = errors_of({"steps": [http("step_a", "step_b"), http("step_b", "step_a")]})
    assert errors == ["Cycle detected: step_a → step_b → step_a"]


def test_a_longer_cycle_starts_at_its_first_defined_step():
    errors = errors_of({"steps": [http("start"), http("x", "start", "z"), http("y", "x"), http("z", "y")]})
    assert errors == ["Cycle detected: x → y → z → x"]


def test_a_step_depending_on_itself_is_a_cycle():
    assert errors_of({"steps": [http("a", "a")]}) == ["Cycle detected: a → a"]


def test_a_duplicate_step_id_is_reported_once():
    assert errors_of({"steps": [http("x"), http("x"), http("x")]}) == ["Duplicate step id 'x'"]


def test_an_unknown_step_type_is_reported():
    assert errors_of({"steps": [{"id": "x", "type": "foo"}]}) == ["Step 'x' has unknown type 'foo'"]


def test_a_missing_step_type_lists_the_known_ones():
    (error,) = errors_of({"steps": [{"id": "x"}]})
    assert error.startswith("Step 'x' needs a type (one of ") and "http_request" in error


def test_a_config_schema_violation_names_the_path():
    step = {"id": "x", "type": "http_request", "config": {"url": "https://e.com", "headers": {"A": ["b"]}}}
    assert errors_of({"steps": [step]}) == [
        "Step 'x' config: {'A': ['b']} is not an object of text values or a {{ template }} at config.headers"
    ]


def test_a_missing_required_config_key_is_reported_at_config():
    assert errors_of({"steps": [{"id": "x", "type": "http_request", "config": {}}]}) == [
        "Step 'x' config: 'url' is a required property at config"
    ]


def test_a_bad_enum_value_lists_the_choices():
    step = {"id": "x", "type": "http_request", "config": {"url": "u", "method": "FETCH"}}
    assert errors_of({"steps": [step]}) == [
        "Step 'x' config: 'FETCH' is not an HTTP method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS) at config.method"
    ]


def test_a_wait_without_a_duration_reads_as_a_sentence():
    assert errors_of({"steps": [{"id": "w", "type": "wait", "config": {}}]}) == [
        "Step 'w' config: needs exactly one of 'seconds', 'until' or 'signal' at config"
    ]


def test_a_wait_with_two_durations_is_reported():
    assert errors_of({"steps": [{"id": "w", "type": "wait", "config": {"seconds": 1, "signal": "go"}}]}) == [
        "Step 'w' config: needs exactly one of 'seconds', 'until' or 'signal' at config"
    ]


def test_a_templated_number_is_accepted():
    assert errors_of({"steps": [{"id": "w", "type": "wait", "config": {"seconds": "{{ input.delay }}"}}]}) == []


def test_a_template_naming_a_step_that_is_not_upstream_is_reported():
    steps = [http("a"), {**http("b"), "config": {"url": "https://e.com/{{ steps.a.output.body.id }}"}}]
    assert errors_of({"steps": steps}) == ["Step 'b' references step 'a' which is not upstream"]


def test_a_template_naming_an_indirect_ancestor_is_fine():
    steps = [http("a"), http("b", "a"), {**http("c", "b"), "config": {"url": "{{ steps.a.output.body.url }}"}}]
    assert errors_of({"steps": steps}) == []


def test_a_template_naming_a_downstream_step_is_reported():
    steps = [{**http("a"), "config": {"url": "{{ steps['b'].output.body }}"}}, http("b", "a")]
    assert errors_of({"steps": steps}) == ["Step 'a' references step 'b' which is not upstream"]


def test_a_template_naming_a_missing_step_is_reported():
    steps = [{**http("a"), "config": {"url": "{{ steps.ghost.output }}"}}]
    assert errors_of({"steps": steps}) == ["Step 'a' references step 'ghost' which doesn't exist"]


def test_a_when_naming_a_step_that_is_not_upstream_is_reported():
    steps = [http("a"), http("b", when="steps.a.output.status_code == 200")]
    assert errors_of({"steps": steps}) == ["Step 'b' references step 'a' which is not upstream"]


def test_an_invalid_when_expression_is_reported():
    assert errors_of({"steps": [http("a", when="{{ input.x == }}")]}) == [
        "Step 'a' has invalid when expression: unexpected '}}'"
    ]


def test_an_invalid_template_in_config_names_its_path():
    step = {**http("a"), "config": {"url": "https://e.com/{{ input.id }"}}
    assert errors_of({"steps": [step]}) == ["Step 'a' config has an invalid template at config.url: unexpected '}'"]


def test_an_invalid_trigger_rule_lists_the_valid_ones():
    assert errors_of({"steps": [http("x", trigger_rule="foo")]}) == [
        "Step 'x' has invalid trigger_rule 'foo' (expected one of all_success, all_done, none_failed, one_success, one_failed)"
    ]


def test_the_script_type_is_disabled_by_default(settings):
    settings.ORCHESTRATOR_ENABLE_SCRIPTS = False
    step = {"id": "x", "type": "script", "config": {"language": "python", "code": "print(1)"}}
    assert errors_of({"steps": [step]}) == [
        "Step 'x' uses step type 'script' which is disabled (set ORCHESTRATOR_ENABLE_SCRIPTS=true to enable it)"
    ]


def test_the_script_type_validates_when_enabled(settings):
    settings.ORCHESTRATOR_ENABLE_SCRIPTS = True
    step = {"id": "x", "type": "script", "config": {"language": "python", "code": "print(1)"}}
    assert errors_of({"steps": [step]}) == []


def test_condition_branches_naming_unknown_steps_are_reported():
    steps = [{"id": "c", "type": "condition", "config": {"expression": "input.ok", "then": ["yes"], "else": ["no"]}}]
    assert errors_of({"steps": steps}) == [
        "Step 'c' config.then names step 'yes' which doesn't exist",
        "Step 'c' config.else names step 'no' which doesn't exist",
    ]


def test_condition_branches_must_be_downstream_of_the_condition():
    steps = [{"id": "c", "type": "condition", "config": {"expression": "input.ok", "then": ["yes"]}}, http("yes")]
    assert errors_of({"steps": steps}) == ["Step 'c' config.then names step 'yes' which is not downstream of it"]


def test_condition_branches_downstream_of_the_condition_are_valid():
    steps = [
        {"id": "c", "type": "condition", "config": {"expression": "input.ok", "then": ["yes"], "else": ["no"]}},
        http("yes", "c"),
        http("no", "c"),
    ]
    assert errors_of({"steps": steps}) == []


def test_a_condition_field_naming_a_step_must_be_upstream():
    steps = [http("a"), {"id": "c", "type": "condition", "config": {"field": "steps.a.output.x", "operator": "exists"}}]
    assert errors_of({"steps": steps}) == ["Step 'c' references step 'a' which is not upstream"]


def test_a_bad_retry_block_reports_every_problem():
    retry = {"max_attempts": 0, "backoff": "sometimes", "retry_on": ["network", "rain"], "initial_interval_seconds": -1}
    assert errors_of({"steps": [http("x", retry=retry)]}) == [
        "Step 'x' retry: 'sometimes' is not one of ['fixed', 'exponential', 'linear'] at retry.backoff",
        "Step 'x' retry: -1 is less than the minimum of 0 at retry.initial_interval_seconds",
        "Step 'x' retry: 0 is less than the minimum of 1 at retry.max_attempts",
        "Step 'x' retry: 'rain' is not one of ['network', 'timeout', '5xx', '4xx', '429', 'error'] at retry.retry_on[1]",
    ]


def test_an_unknown_retry_key_is_reported():
    assert errors_of({"steps": [http("x", retry={"attempts": 3})]}) == [
        "Step 'x' retry: Additional properties are not allowed ('attempts' was unexpected) at retry"
    ]


@pytest.mark.parametrize("timeout", [0, -5, 1.5, "30", True])
def test_timeout_seconds_must_be_a_positive_integer(timeout):
    assert errors_of({"steps": [http("x", timeout_seconds=timeout)]}) == [
        "Step 'x' timeout_seconds must be a positive integer"
    ]


def test_inputs_must_be_a_valid_json_schema():
    raw = {"inputs": {"type": "object", "properties": {"url": {"type": "strin"}}}, "steps": [http("a")]}
    assert errors_of(raw) == [
        "Workflow inputs is not a valid JSON Schema: 'strin' is not one of "
        "['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'] at inputs.properties.url.type"
    ]


def test_inputs_must_describe_an_object():
    assert errors_of({"inputs": {"type": "array"}, "steps": [http("a")]}) == [
        "Workflow inputs must describe an object (type 'object'): run input is a JSON object"
    ]


def test_outputs_naming_a_missing_step_are_reported():
    raw = {"outputs": {"summary": "{{ steps.ghost.output }}"}, "steps": [http("a")]}
    assert errors_of(raw) == ["Output 'summary' references step 'ghost' which doesn't exist"]


def test_an_invalid_step_id_is_reported():
    (error,) = errors_of({"steps": [http("1 bad id")]})
    assert error.startswith("Step '1 bad id' has an invalid id")


def test_an_edge_to_a_missing_step_is_reported():
    raw = {"steps": [http("a")], "edges": [{"source": "a", "target": "b"}]}
    assert errors_of(raw) == ["Edge from 'a' to 'b' points to step 'b' which doesn't exist"]


def test_a_loops_inner_step_is_validated_against_its_type():
    config = {"items": "{{ input.list }}", "step": {"type": "http_request", "config": {"method": "GET"}}}
    assert errors_of({"steps": [{"id": "l", "type": "loop", "config": config}]}) == [
        "Step 'l' config: 'url' is a required property at config.step.config"
    ]


def test_an_invalid_jmespath_is_reported():
    assert errors_of({"steps": [{"id": "t", "type": "transform", "config": {"expression": "items[?"}}]}) == [
        "Step 't' config: 'items[?' is not a valid JMESPath expression (it ends too early) at config.expression"
    ]


def test_every_problem_is_reported_at_once():
    steps = [http("a", "ghost"), {"id": "b", "type": "foo"}, http("a"), http("c", trigger_rule="x")]
    assert len(errors_of({"steps": steps})) == 4


def test_garbage_inside_steps_never_crashes_validation():
    raw = {
        "steps": [
            {"id": ["x"], "type": 5, "config": [], "depends_on": [{"a": 1}], "when": 3, "retry": "no"},
            {"id": "ok", "type": "http_request", "config": {"url": 7}, "depends_on": "nope?"},
            None,
        ],
        "inputs": "schema",
        "outputs": [],
        "settings": {"max_concurrent_runs": 0},
        "edges": [5],
    }
    assert errors_of(raw) == [
        "Workflow inputs must be a JSON Schema object",
        "Workflow settings: 0 is less than the minimum of 1 at settings.max_concurrent_runs",
        "Step #1 needs an id (text)",
        "Step #1 needs a type (one of manual_trigger, http_request, webhook, script, agent_task, condition, loop, "
        "wait, transform, integration, sub_workflow)",
        "Step #1 config must be an object",
        "Step #1 depends_on must be a list of step ids",
        "Step #1 has invalid when expression: it must be a template expression or true/false",
        "Step #1 retry must be an object",
        "Step 'ok' config: 7 is not of type 'string' at config.url",
        "Step 'ok' depends on 'nope?' which doesn't exist",
        "Step #3 must be an object",
        "Workflow outputs must be an object mapping names to templates",
        "Edge #1 needs a source and a target step id",
    ]


def test_ten_thousand_steps_validate():
    assert errors_of(build_definition(10_000)) == []


def test_a_wrong_reference_deep_in_a_long_chain_is_found():
    steps = [http("s0")] + [
        {**http(f"s{i}", f"s{i - 1}"), "config": {"url": f"{{{{ steps.s{i - 1}.output.body.next }}}}"}}
        for i in range(1, 3000)
    ]
    steps.append({**http("side"), "config": {"url": "{{ steps.s2998.output.body }}"}})
    steps.append({**http("tail", "s2999"), "config": {"url": "{{ steps.s0.output.body }} {{ steps.side.output }}"}})
    assert errors_of({"steps": steps}) == [
        "Step 'side' references step 's2998' which is not upstream",
        "Step 'tail' references step 'side' which is not upstream",
    ]


def test_topological_order_puts_dependencies_first():
    steps = definition_normalize({"steps": [http("c", "b"), http("b", "a"), http("a")]})["steps"]
    assert topological_order(steps) == ["a", "b", "c"]


def test_topological_order_raises_on_a_cycle():
    steps = definition_normalize({"steps": [http("a", "b"), http("b", "a")]})["steps"]
    with pytest.raises(CycleError, match="a → b → a"):
        topological_order(steps)


def test_upstream_and_downstream_follow_dependencies_transitively():
    definition = definition_normalize({"steps": [http("a"), http("b", "a"), http("c", "b"), http("d")]})
    assert upstream_of(definition, "c") == {"a", "b"}
    assert downstream_of(definition, "a") == {"b", "c"}
    assert sink_steps(definition) == ["c", "d"]


def test_a_broken_condition_expression_is_reported_once():
    steps = [{"id": "c", "type": "condition", "config": {"expression": "input.ok =="}}]
    assert errors_of({"steps": steps}) == ["Step 'c' has invalid condition expression: unexpected end of expression"]


def test_an_inputs_pattern_that_is_no_regular_expression_is_reported():
    raw = {"inputs": {"type": "object", "properties": {"a": {"type": "string", "pattern": "(x"}}}, "steps": [http("a")]}
    assert errors_of(raw) == [
        "Workflow inputs is not a valid JSON Schema: '(x' is not a 'regex' at inputs.properties.a.pattern"
    ]


GARBAGE = [None, 0, -1, 2.5, True, "", "x", "{{", "{{ steps.", [], [1, [2]], {}, {"a": {"b": []}}, ["x"], {"source": 1}]


def _garbage(rng, depth: int = 0):
    if depth > 2 or rng.random() < 0.5:
        return rng.choice(GARBAGE)
    keys = ["id", "type", "config", "depends_on", "input_from", "when", "retry", "data", "action", "source", "target"]
    if rng.random() < 0.5:
        return [_garbage(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(keys): _garbage(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def test_random_garbage_never_crashes_normalization_or_validation():
    import random

    rng = random.Random(7)
    for _ in range(2000):
        raw = {
            key: _garbage(rng)
            for key in rng.sample(["steps", "nodes", "edges", "inputs", "outputs", "settings", "name"], 4)
        }
        if rng.random() < 0.7:
            raw["steps"] = [_garbage(rng) for _ in range(rng.randint(0, 4))]
        assert isinstance(definition_errors(definition_normalize(raw)), list)
