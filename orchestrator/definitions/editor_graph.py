"""A canonical definition as a visual editor's graph (React Flow ``nodes`` and ``edges``), and back.

Seed 002's clients read and write workflows as nodes and edges. The stored form stays the
canonical definition; this module only translates:

* ``definition_graph`` → ``(nodes, edges)``: one node per step,
  ``{"id", "type": "trigger"|"action", "position", "data": {"label", "type", "config"}}`` (the
  step's ``description``, ``when``, ``trigger_rule``, ``continue_on_error``, ``retry`` and
  ``timeout_seconds`` ride along at the node's top level, where ``definition_normalize`` reads
  them back), and one edge ``{"id", "source", "target"}`` per dependency.
* ``definition_with_graph`` → a definition whose steps come from the given nodes and edges
  (``definition_normalize`` reads editor nodes), keeping the definition's ``inputs``,
  ``outputs`` and ``settings``.

The canonical definition holds no layout, so ``position`` is computed: one column per depth of
the DAG, one row per step within it. An editor that moves nodes gets them back laid out again.
"""

from __future__ import annotations

from typing import Any

from orchestrator.definitions.graph import kahn_order, step_parents
from orchestrator.step_types import registry

NODE_KEYS = ("description", "when", "trigger_rule", "continue_on_error", "retry", "timeout_seconds")
COLUMN_WIDTH = 250
ROW_HEIGHT = 120


def _depths(steps: list[dict]) -> dict[str, int]:
    """Longest path from a root, per step (stored definitions are acyclic; a step left out of the
    order, which only an invalid definition has, sits in column 0)."""
    parents = step_parents(steps)
    depth: dict[str, int] = {}
    for step_id in kahn_order(parents):
        depth[step_id] = 1 + max((depth[p] for p in parents[step_id] if p in depth), default=-1)
    return {step["id"]: depth.get(step["id"], 0) for step in steps}


def _node_kind(step_type: str) -> str:
    known = registry.get(step_type)
    return "trigger" if known is not None and known.category == "trigger" else "action"


def definition_graph(definition: dict) -> tuple[list[dict], list[dict]]:
    """``(nodes, edges)`` of a canonical definition, in step order."""
    steps = [step for step in definition.get("steps", []) if isinstance(step, dict)]
    depths = _depths(steps)
    rows: dict[int, int] = {}
    nodes, edges = [], []
    for step in steps:
        column = depths[step["id"]]
        row = rows.get(column, 0)
        rows[column] = row + 1
        node: dict[str, Any] = {
            "id": step["id"],
            "type": _node_kind(step["type"]),
            "position": {"x": column * COLUMN_WIDTH, "y": row * ROW_HEIGHT},
            "data": {"label": step.get("name") or step["id"], "type": step["type"], "config": step.get("config", {})},
        }
        node.update({key: step[key] for key in NODE_KEYS if key in step})
        nodes.append(node)
        for source in step.get("depends_on", []):
            edges.append({"id": f"{source}->{step['id']}", "source": source, "target": step["id"]})
    return nodes, edges


def definition_with_graph(definition: dict, *, nodes: list | None, edges: list | None) -> dict:
    """A raw definition (for ``definition_prepare``) whose steps are ``nodes`` wired by ``edges``.

    Left out, ``nodes`` are the current steps and ``edges`` the current dependencies between
    nodes that are still there.
    """
    current_nodes, current_edges = definition_graph(definition)
    if nodes is None:
        nodes = current_nodes
    if edges is None:
        present = {node.get("id") for node in nodes if isinstance(node, dict)}
        edges = [edge for edge in current_edges if edge["source"] in present and edge["target"] in present]
    kept = {key: definition[key] for key in ("inputs", "outputs", "settings") if key in definition}
    return {**kept, "nodes": nodes, "edges": edges}
