"""A definition as an editor's nodes and edges (seed 002) and back, and a duplicate's new step IDs."""

from __future__ import annotations

from orchestrator.definitions import definition_errors, definition_normalize
from orchestrator.definitions.editor_graph import definition_graph, definition_with_graph
from workflows.services import _with_new_step_ids

DEFINITION = definition_normalize(
    {
        "inputs": {"type": "object", "properties": {"url": {"type": "string"}}},
        "outputs": {"all": "{{ steps.fetch_all.output }}"},
        "settings": {"max_concurrent_runs": 2},
        "steps": [
            {"id": "start", "type": "manual_trigger"},
            {
                "id": "fetch",
                "type": "http_request",
                "name": "Fetch",
                "description": "one page",
                "config": {"url": "{{ input.url }}"},
                "depends_on": ["start"],
                "retry": {"max_attempts": 3},
                "timeout_seconds": 10,
            },
            {
                "id": "fetch_all",
                "type": "transform",
                "config": {"value": "{{ steps.fetch.output.body }} {{ steps['fetch'].status }}"},
                "depends_on": ["fetch"],
                "when": "{{ steps.fetch.output.status_code == 200 }}",
                "trigger_rule": "all_done",
            },
        ],
    }
)


def test_nodes_and_edges_carry_every_step_and_dependency_and_lay_out_by_depth():
    nodes, edges = definition_graph(DEFINITION)
    assert [(n["id"], n["type"], n["data"]["type"]) for n in nodes] == [
        ("start", "trigger", "manual_trigger"),
        ("fetch", "action", "http_request"),
        ("fetch_all", "action", "transform"),
    ]
    assert [n["position"]["x"] for n in nodes] == [0, 250, 500]
    assert nodes[1]["data"]["label"] == "Fetch" and nodes[1]["retry"] == {"max_attempts": 3}
    assert [(e["source"], e["target"]) for e in edges] == [("start", "fetch"), ("fetch", "fetch_all")]


def test_the_graph_read_back_is_the_same_definition():
    nodes, edges = definition_graph(DEFINITION)
    again = definition_normalize(definition_with_graph(DEFINITION, nodes=nodes, edges=edges))
    assert again == DEFINITION
    assert definition_normalize(definition_with_graph(DEFINITION, nodes=None, edges=None)) == DEFINITION


def test_nodes_without_edges_keep_the_edges_between_nodes_still_there():
    nodes, _ = definition_graph(DEFINITION)
    kept = definition_normalize(definition_with_graph(DEFINITION, nodes=nodes[:2], edges=None))
    assert [(s["id"], s["depends_on"]) for s in kept["steps"]] == [("start", []), ("fetch", ["start"])]


def test_new_step_ids_rewrite_every_reference_and_nothing_else():
    copied = _with_new_step_ids(DEFINITION)
    renamed = {old["id"]: new["id"] for old, new in zip(DEFINITION["steps"], copied["steps"], strict=True)}
    assert len(set(renamed.values())) == 3 and all(new.startswith(f"{old}_") for old, new in renamed.items())
    fetch, fetch_all = renamed["fetch"], renamed["fetch_all"]
    step = copied["steps"][2]
    assert step["config"]["value"] == f"{{{{ steps.{fetch}.output.body }}}} {{{{ steps['{fetch}'].status }}}}"
    assert step["when"] == f"{{{{ steps.{fetch}.output.status_code == 200 }}}}"
    assert step["depends_on"] == [fetch] and copied["outputs"] == {"all": f"{{{{ steps.{fetch_all}.output }}}}"}
    assert copied["steps"][1]["config"] == {"url": "{{ input.url }}"}
    assert definition_errors(copied) == []
    assert DEFINITION["steps"][2]["depends_on"] == ["fetch"]  # the original is untouched
