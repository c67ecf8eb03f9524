from __future__ import annotations

import pytest
from jinja2 import TemplateError

from orchestrator.definitions.expressions import (
    ExpressionError,
    _ast_references,
    _env,
    _simple_analysis,
    evaluate,
    referenced_steps,
    render,
    template_syntax_errors,
)

CONTEXT = {
    "input": {"url": "https://example.com", "count": 3, "name": "<Ada & co>"},
    "steps": {
        "a": {"output": {"items": [1, 2, 3], "count": 3, "body": {"id": 7}}, "status": "completed"},
        "b-c": {"output": "text", "status": "completed"},
    },
    "run": {"id": "run_1"},
}


def test_a_single_expression_keeps_a_list_a_list():
    assert render("{{ steps.a.output.items }}", CONTEXT) == [1, 2, 3]


def test_a_single_expression_keeps_an_int_an_int():
    assert render("{{ steps.a.output.count }}", CONTEXT) == 3


def test_a_single_expression_keeps_a_dict_a_dict():
    assert render("{{ steps.a.output.body }}", CONTEXT) == {"id": 7}


def test_whitespace_around_a_single_expression_is_allowed():
    assert render("  {{ steps.a.output.count + 1 }}\n", CONTEXT) == 4


def test_mixed_text_renders_to_a_string():
    assert render("Got {{ steps.a.output.count }} items", CONTEXT) == "Got 3 items"


def test_mixed_text_renders_containers_as_json():
    assert render("Body: {{ steps.a.output.body }}", CONTEXT) == 'Body: {"id": 7}'


def test_two_expressions_side_by_side_render_to_a_string():
    assert render("{{ steps.a.output.count }}{{ steps.a.output.count }}", CONTEXT) == "33"


def test_render_walks_nested_dicts_and_lists():
    value = {"url": "{{ input.url }}/x", "ids": ["{{ steps.a.output.body.id }}", 5], "flag": True}
    assert render(value, CONTEXT) == {"url": "https://example.com/x", "ids": [7, 5], "flag": True}


def test_strings_without_templates_are_returned_unchanged():
    assert render("plain {text}", CONTEXT) == "plain {text}"


def test_a_dict_key_named_like_a_method_reads_the_key():
    assert render("{{ steps.a.output.items | length }}", CONTEXT) == 3


def test_a_missing_output_key_raises_an_expression_error_naming_the_key():
    with pytest.raises(ExpressionError, match=r"key 'missing' not found \(available keys: 'items', 'count', 'body'\)"):
        render("{{ steps.a.output.missing }}", CONTEXT)


def test_a_missing_key_used_in_text_also_raises():
    with pytest.raises(ExpressionError, match="'nope'"):
        render("id={{ steps.nope.output }}", CONTEXT)


def test_expression_error_is_a_jinja_template_error():
    assert issubclass(ExpressionError, TemplateError)


def test_default_filter_covers_a_missing_key():
    assert render("{{ steps.a.output.missing | default('none') }}", CONTEXT) == "none"


def test_tojson_renders_plain_json_without_html_escapes():
    assert render("{{ input.name | tojson }}", CONTEXT) == '"<Ada & co>"'


def test_tojson_accepts_an_indent():
    assert render("{{ steps.a.output.body | tojson(indent=2) }}", CONTEXT) == '{\n  "id": 7\n}'


def test_fromjson_parses_text():
    assert render("{{ '{\"a\": [1]}' | fromjson }}", CONTEXT) == {"a": [1]}


def test_fromjson_on_bad_text_raises_an_expression_error():
    with pytest.raises(ExpressionError, match="fromjson"):
        render("{{ 'nope' | fromjson }}", CONTEXT)


def test_evaluate_accepts_an_expression_without_braces():
    assert evaluate("steps.a.output.count == 3", CONTEXT) is True


def test_evaluate_accepts_an_expression_with_braces():
    assert evaluate("{{ steps.a.output.count > 5 }}", CONTEXT) is False


def test_evaluate_returns_a_boolean_as_it_is():
    assert evaluate(True, CONTEXT) is True


def test_hyphenated_step_ids_are_read_by_subscript():
    assert evaluate("steps['b-c'].output", CONTEXT) == "text"


def test_loop_variables_item_and_index_are_available():
    assert render("{{ index }}: {{ item.name }}", {**CONTEXT, "item": {"name": "x"}, "index": 2}) == "2: x"


def test_the_sandbox_refuses_private_attributes():
    with pytest.raises(ExpressionError, match="unsafe"):
        render("{{ input.__class__ }}", CONTEXT)


def test_the_sandbox_refuses_to_mutate_the_context():
    with pytest.raises(ExpressionError):
        render("{{ steps.a.output['items'].append(4) }}", CONTEXT)
    assert CONTEXT["steps"]["a"]["output"]["items"] == [1, 2, 3]


def test_huge_string_repetition_is_refused():
    with pytest.raises(ExpressionError, match="not allowed"):
        render("{{ 'x' * 100000000 }}", CONTEXT)


def test_a_syntax_error_raises_an_expression_error():
    with pytest.raises(ExpressionError, match="Invalid template"):
        render("{{ steps.a.output. }}", CONTEXT)


def test_referenced_steps_finds_dotted_and_subscript_references():
    value = {"a": "{{ steps.fetch.output.body }}", "b": ["x {{ steps['my-step'].status }}"]}
    assert referenced_steps(value) == {"fetch", "my-step"}


def test_referenced_steps_ignores_input_run_and_plain_text():
    assert referenced_steps({"a": "{{ input.steps }}", "b": "steps.fetch", "c": "{{ run.id }}"}) == set()


def test_referenced_steps_reads_complex_expressions():
    source = "{% if steps.a.status == 'completed' %}{{ steps['b'].output.x if input.y else steps.c.output }}{% endif %}"
    assert referenced_steps(source) == {"a", "b", "c"}


def test_referenced_steps_ignores_string_literals():
    assert referenced_steps("{{ 'steps.fake' ~ input.x }}") == set()


@pytest.mark.parametrize(
    "source",
    [
        "{{ steps.a.output }}",
        "x {{ steps.a.output.b | tojson }} and {{ steps['b-c'].output | length }} y",
        '{{ steps["q"].output.items }}',
        "{{ input.steps.a }}",
        "{{ steps }}",
        "a { b } }} {{ run.id }}",
    ],
)
def test_the_fast_path_agrees_with_jinjas_parser(source):
    assert _simple_analysis(source) == _ast_references(_env.parse(source))


def test_template_syntax_errors_name_the_path_of_the_bad_template():
    problems = template_syntax_errors({"headers": {"X": ["ok", "{{ steps.a.output }"]}})
    assert problems == ["Invalid template at headers.X[1]: unexpected '}' (in '{{ steps.a.output }')"]


def test_an_unknown_filter_is_a_template_problem():
    assert template_syntax_errors("{{ input.x | shout }}") == [
        "Invalid template: unknown filter 'shout' (in '{{ input.x | shout }}')"
    ]


def test_valid_templates_have_no_syntax_errors():
    assert (
        template_syntax_errors({"a": "{{ steps.a.output | tojson }}", "b": "{% for x in input.l %}{{ x }}{% endfor %}"})
        == []
    )
