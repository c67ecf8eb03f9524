"""Turn every accepted definition shape into the canonical one (SPEC section 4).

Accepted on input:

* ``nodes`` for ``steps`` (when both are given, ``steps`` wins);
* ``input_from`` (a string or a list) and ``edges: [{source|from, target|to}]`` for
  ``depends_on``, merged in that order after ``depends_on``, duplicates dropped;
* a step's top-level ``action`` as ``config.action`` (an ``action`` already in config wins);
* visual-editor nodes (React Flow: ``{"id", "type", "data": {...}, "position"}``): ``data.config``
  becomes ``config``, ``data.label`` becomes ``name``, ``data.description`` becomes
  ``description``. When the node's own type is a UI type (``trigger``, ``action``, ``default``),
  the step type is ``data.type`` when that names a real type; a ``trigger`` node becomes
  ``manual_trigger``; an ``action`` node whose ``config.actionType`` names a registered type
  ("HTTP Request" → ``http_request``) becomes that type.

Canonical form: keys ``name``, ``description`` (only when given), ``inputs`` (default
``{"type": "object", "properties": {}}``; ``{}`` stays ``{}``), ``outputs`` (default ``{}``),
``settings`` (default ``{}``), ``steps``. Each step: ``id``, ``type``, ``name`` (default: the
id), ``config`` (default ``{}``), ``depends_on`` (default ``[]``), then only those of
``description``, ``when``, ``trigger_rule``, ``continue_on_error``, ``retry``,
``timeout_seconds`` that are given (a ``null`` counts as not given). Other keys
(``position``, leftover UI ``data``, unknown top-level keys) are dropped.

Garbage is passed through untouched for validation to report: a non-dict definition,
``steps`` that is not a list, a step that is not a dict, a ``depends_on`` that is neither a
string nor a list. Edges that cannot be attached (bad shape, unknown target) stay in a
top-level ``edges`` list, which only exists then, so validation can name them.

Nested config values are shared with the input, not copied.
"""

from __future__ import annotations

import re
from typing import Any

from orchestrator.definitions.gc_pause import gc_paused
from orchestrator.step_types import registry

UI_TYPES = frozenset({"trigger", "action", "default"})
OPTIONAL_STEP_KEYS = ("description", "when", "trigger_rule", "continue_on_error", "retry", "timeout_seconds")
DEFAULT_INPUTS: dict[str, Any] = {"type": "object", "properties": {}}


def definition_normalize(raw: dict) -> dict:
    """The canonical form of ``raw`` (a new dict; ``raw`` is not modified)."""
    if not isinstance(raw, dict):
        return raw
    with gc_paused():
        return _definition_normalize(raw)


def _definition_normalize(raw: dict) -> dict:
    definition: dict[str, Any] = {}
    for key in ("name", "description"):
        if raw.get(key) is not None:
            definition[key] = raw[key]
    inputs = raw.get("inputs")
    definition["inputs"] = {**DEFAULT_INPUTS, "properties": {}} if inputs is None else inputs
    definition["outputs"] = {} if raw.get("outputs") is None else raw["outputs"]
    definition["settings"] = {} if raw.get("settings") is None else raw["settings"]

    steps = raw["steps"] if raw.get("steps") is not None else raw.get("nodes")
    steps = [] if steps is None else steps
    edges = raw.get("edges")
    if not isinstance(steps, list):
        definition["steps"] = steps
        if edges:
            definition["edges"] = edges
        return definition

    steps = [_step_normalize(step) for step in steps]
    leftover = _edges_apply(steps, edges)
    definition["steps"] = steps
    if leftover:
        definition["edges"] = leftover
    return definition


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list | tuple) else value


def _merged(*lists: list) -> list:
    seen: set[str] = set()
    merged = []
    for items in lists:
        for item in items:
            if isinstance(item, str):
                if item in seen:
                    continue
                seen.add(item)
            merged.append(item)
    return merged


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def _ui_step_type(node_type: Any, data: dict, config: Any) -> Any:
    data_type = data.get("type")
    if isinstance(data_type, str) and data_type and data_type not in UI_TYPES:
        return data_type
    kind = data_type if isinstance(data_type, str) and data_type in UI_TYPES else node_type
    if kind == "trigger":
        return "manual_trigger"
    action_type = config.get("actionType") if isinstance(config, dict) else None
    if isinstance(action_type, str) and _snake(action_type) in registry:
        return _snake(action_type)
    return node_type if node_type is not None else data_type


def _step_normalize(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    data = node.get("data") if isinstance(node.get("data"), dict) else {}
    config = node.get("config")
    if config is None and isinstance(data.get("config"), dict):
        config = data["config"]
    config = {} if config is None else config
    step_type = node.get("type")
    if step_type is None or (isinstance(step_type, str) and step_type in UI_TYPES):
        step_type = _ui_step_type(step_type, data, config)
    name = node.get("name")
    if name is None:
        name = data.get("label") if data.get("label") is not None else data.get("name")
    if name is None and isinstance(node.get("id"), str):
        name = node["id"]

    if isinstance(config, dict):
        config = dict(config)
        if node.get("action") is not None:
            config = {"action": node["action"], **config}

    depends_on = _as_list(node.get("depends_on"))
    input_from = _as_list(node.get("input_from"))
    if isinstance(depends_on, list) and isinstance(input_from, list) and len(depends_on) + len(input_from) > 1:
        depends_on = _merged(depends_on, input_from)
    elif input_from and isinstance(input_from, list) and depends_on == []:
        depends_on = input_from

    step: dict[str, Any] = {
        "id": node.get("id"),
        "type": step_type,
        "name": name,
        "config": config,
        "depends_on": depends_on,
    }
    if node.get("description") is None and isinstance(data.get("description"), str):
        step["description"] = data["description"]
    for key in OPTIONAL_STEP_KEYS:
        if node.get(key) is not None:
            step[key] = node[key]
    return step


def _edge_ends(edge: Any) -> tuple[Any, Any]:
    if not isinstance(edge, dict):
        return None, None
    source = edge.get("source", edge.get("from"))
    target = edge.get("target", edge.get("to"))
    return source, target


def _edges_apply(steps: list, edges: Any) -> list:
    """Add each edge's source to its target's ``depends_on``; return the edges that fit nowhere."""
    if edges is None:
        return []
    if not isinstance(edges, list):
        return [edges]
    by_id: dict[str, dict] = {}
    for step in steps:
        if isinstance(step, dict) and isinstance(step["id"], str):
            by_id.setdefault(step["id"], step)
    leftover = []
    touched: set[str] = set()
    for edge in edges:
        source, target = _edge_ends(edge)
        step = by_id.get(target) if isinstance(target, str) else None
        if not isinstance(source, str) or step is None or not isinstance(step["depends_on"], list):
            leftover.append(edge)
            continue
        step["depends_on"].append(source)
        touched.add(target)
    for target in touched:
        by_id[target]["depends_on"] = _merged(by_id[target]["depends_on"])
    return leftover
