"""Streamed generation (``POST /api/workflows/generate``, SPEC 11; seed 002's ``/api/ai/generate``):
the result of parse, told as a stream of JSON Lines operations.

``generation_start`` checks the prompt and context at once (a bad one is a 400 before
anything streams) and returns an iterator of operations:

``{"op": "setName", "name"}``, ``{"op": "setDescription", "description"}``,
``{"op": "setSchedule", "schedule": {cron_expression, timezone, description}}`` (only when the
prompt states one), ``{"op": "setInputs", "inputs": JSON Schema}`` (when the run needs input),
then per step in order ``{"op": "addStep", "step"}`` followed by its
``{"op": "addEdge", "edge": {"source", "target"}}`` (one per dependency), and last
``{"op": "done", "workflow": <the parse result>, "parse_time_ms"}``. Applying the operations
in order rebuilds the parse result's definition. When something fails after the stream began,
the last line is ``{"op": "error", "code", "message", "details"}``.

``flavor="nodes"`` tells the same with seed 002's words: ``addNode`` with a visual-editor node
(``{id, type, data: {label, type, config}, position}``) and edges with an ``id``; both load
back through the definition normalizer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from orchestrator.authoring.parse import context_check, instruction_check, workflow_draft
from orchestrator.errors import DomainError
from orchestrator.models import Tenant

logger = logging.getLogger(__name__)
FLAVORS = ("steps", "nodes")


def _depths(steps: list[dict]) -> dict[str, int]:
    depth: dict[str, int] = {}
    for step in steps:  # parse results list every step after its dependencies
        depth[step["id"]] = 1 + max((depth.get(d, 0) for d in step.get("depends_on", [])), default=-1)
    return depth


def operations(workflow: dict, *, flavor: str = "steps") -> Iterator[dict]:
    """The operations that build ``workflow`` (a parse result), in order."""
    yield {"op": "setName", "name": workflow["name"]}
    yield {"op": "setDescription", "description": workflow["description"]}
    if workflow.get("schedule"):
        yield {"op": "setSchedule", "schedule": workflow["schedule"]}
    if (workflow.get("inputs") or {}).get("properties"):
        yield {"op": "setInputs", "inputs": workflow["inputs"]}
    depth = _depths(workflow["steps"])
    row: dict[int, int] = {}
    for step in workflow["steps"]:
        bare = {k: v for k, v in step.items() if k != "depends_on"}
        if flavor == "nodes":
            level = depth[step["id"]]
            row[level] = row.get(level, -1) + 1
            node = {
                "id": step["id"],
                "type": step["type"],
                "data": {"label": step.get("name", step["id"]), "type": step["type"], "config": step["config"]},
                "position": {"x": 280 * level, "y": 140 * row[level]},
                **{k: v for k, v in bare.items() if k not in ("id", "type", "name", "config")},
            }
            yield {"op": "addNode", "node": node}
        else:
            yield {"op": "addStep", "step": bare}
        for source in step.get("depends_on", []):
            edge: dict[str, Any] = {"source": source, "target": step["id"]}
            if flavor == "nodes":
                edge = {"id": f"{source}->{step['id']}", **edge}
            yield {"op": "addEdge", "edge": edge}


def _stream(tenant: Tenant, prompt: str, context: dict, flavor: str) -> Iterator[dict]:
    started = time.perf_counter()
    try:
        workflow = workflow_draft(tenant=tenant, instruction=prompt, context=context)
        ops = list(operations(workflow, flavor=flavor))
    except DomainError as exc:
        yield {"op": "error", "code": exc.code, "message": exc.message, "details": exc.details}
        return
    except Exception:  # the stream has begun: the client can only be told in a line
        logger.exception("generation failed")
        yield {"op": "error", "code": "internal_error", "message": "Generation failed unexpectedly.", "details": None}
        return
    yield from ops
    yield {"op": "done", "workflow": workflow, "parse_time_ms": round((time.perf_counter() - started) * 1000, 2)}


def generation_start(
    *, tenant: Tenant, prompt: str, context: dict | None = None, flavor: str = "steps"
) -> Iterator[dict]:
    """Check now (ValidationFailed before the stream starts), then stream the operations."""
    prompt = instruction_check(prompt, "prompt")
    context = context_check(context)
    if flavor not in FLAVORS:
        raise ValueError(f"flavor must be one of {FLAVORS}")
    return _stream(tenant, prompt, context, flavor)


def operations_apply(ops: list[dict]) -> dict:
    """The definition a list of operations builds (what a client does with the stream)."""
    definition: dict[str, Any] = {"name": "", "description": "", "steps": []}
    by_id: dict[str, dict] = {}
    for op in ops:
        kind = op.get("op")
        if kind == "setName":
            definition["name"] = op["name"]
        elif kind == "setDescription":
            definition["description"] = op["description"]
        elif kind == "setInputs":
            definition["inputs"] = op["inputs"]
        elif kind in ("addStep", "addNode"):
            step = dict(op.get("step") or op.get("node"))
            step["depends_on"] = []
            by_id[step["id"]] = step
            definition["steps"].append(step)
        elif kind == "addEdge":
            by_id[op["edge"]["target"]]["depends_on"].append(op["edge"]["source"])
    return definition
