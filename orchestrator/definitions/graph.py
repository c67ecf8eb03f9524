"""The step graph of a (normalized) definition: order, cycles, ancestry.

An edge runs from a dependency to its dependent (the direction data flows). Steps
that are not dicts, ids that are not strings, repeated ids (the first wins) and
dependencies on unknown steps are ignored here; validation reports them.
Everything is O(V + E) except :func:`missing_ancestors`, see there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

MAX_REPORTED_CYCLES = 10


class CycleError(ValueError):
    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("Cycle detected: " + " → ".join(cycle))


def step_parents(steps: Any) -> dict[str, list[str]]:
    """``{step id: [ids it depends on that exist]}`` in definition order."""
    parents: dict[str, list[str]] = {}
    if not isinstance(steps, list):
        return parents
    for step in steps:
        if isinstance(step, dict) and isinstance(step.get("id"), str) and step["id"] not in parents:
            parents[step["id"]] = step.get("depends_on") if isinstance(step.get("depends_on"), list) else []
    for step_id, deps in parents.items():
        kept = [d for d in deps if isinstance(d, str) and d in parents]
        parents[step_id] = list(dict.fromkeys(kept)) if len(kept) > 1 else kept
    return parents


def _children(parents: dict[str, list[str]]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {step_id: [] for step_id in parents}
    for step_id, deps in parents.items():
        for dep in deps:
            children[dep].append(step_id)
    return children


def kahn_order(parents: dict[str, list[str]]) -> list[str]:
    """Topological order, ties broken by definition order; steps on or after a cycle are left out."""
    children = _children(parents)
    waiting = {step_id: len(deps) for step_id, deps in parents.items()}
    ready = deque(step_id for step_id, count in waiting.items() if count == 0)
    order = []
    while ready:
        step_id = ready.popleft()
        order.append(step_id)
        for child in children[step_id]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return order


def find_cycles(parents: dict[str, list[str]], ordered: Iterable[str]) -> list[list[str]]:
    """Some cycles among the steps Kahn's algorithm could not order, each as ``[a, b, …, a]``.

    Each starts at its step defined first; at most ``MAX_REPORTED_CYCLES``.
    """
    done = set(ordered)
    position = {step_id: index for index, step_id in enumerate(parents)}
    children = _children(parents)
    cycles: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 finished
    for root in parents:
        if root in done or root in state:
            continue
        stack = [root]
        on_path = {root: 0}
        iterators = [iter(children[root])]
        state[root] = 1
        while stack:
            child = next(iterators[-1], None)
            if child is None:
                state[stack.pop()] = 2
                iterators.pop()
                continue
            if child in done or state.get(child) == 2:
                continue
            if state.get(child) == 1:
                cycle = stack[on_path[child] :]
                key = frozenset(cycle)
                if key not in seen and len(cycles) < MAX_REPORTED_CYCLES:
                    seen.add(key)
                    first = min(range(len(cycle)), key=lambda i: position[cycle[i]])
                    cycle = cycle[first:] + cycle[:first]
                    cycles.append([*cycle, cycle[0]])
                continue
            state[child] = 1
            on_path[child] = len(stack)
            stack.append(child)
            iterators.append(iter(children[child]))
        on_path.clear()
    return cycles


def topological_order(steps: list) -> list[str]:
    """Step ids, every step after all its dependencies. Raises :class:`CycleError`."""
    parents = step_parents(steps)
    order = kahn_order(parents)
    if len(order) < len(parents):
        raise CycleError(find_cycles(parents, order)[0])
    return order


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    pending = list(edges.get(start, ()))
    while pending:
        step_id = pending.pop()
        if step_id not in found:
            found.add(step_id)
            pending.extend(edges[step_id])
    found.discard(start)
    return found


def upstream_of(definition: dict, step_id: str) -> set[str]:
    """Every step ``step_id`` depends on, directly or not."""
    return _reach(step_id, step_parents(definition.get("steps")))


def downstream_of(definition: dict, step_id: str) -> set[str]:
    """Every step that depends on ``step_id``, directly or not."""
    return _reach(step_id, _children(step_parents(definition.get("steps"))))


def sink_steps(definition: dict) -> list[str]:
    """Steps nothing depends on, in definition order (their outputs form the default run output)."""
    children = _children(step_parents(definition.get("steps")))
    return [step_id for step_id, kids in children.items() if not kids]


ANCESTOR_BITS_PER_PASS = 4096


def missing_ancestors(
    order: list[str], parents: dict[str, list[str]], pairs: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The pairs ``(step, wanted)`` where ``wanted`` is not an ancestor of ``step``.

    Every step of a pair must be in ``order``. Ancestor sets of a 10,000-step chain would be
    O(n²), so only the targets that matter get a bit: a direct parent answers at once, and
    the other targets are propagated as bits of a Python int in one topological pass per
    ``ANCESTOR_BITS_PER_PASS`` targets — O((V + E) · targets / 4096) big-int operations.
    """
    pending: list[tuple[str, str]] = []
    parent_sets: dict[str, set[str]] = {}  # only for wide fan-ins, where a list scan per pair adds up
    for step_id, wanted in pairs:
        deps = parents[step_id]
        if len(deps) >= 8:
            deps = parent_sets.get(step_id) or parent_sets.setdefault(step_id, set(deps))
        if wanted not in deps:
            pending.append((step_id, wanted))
    if not pending:
        return set()
    targets = list(dict.fromkeys(wanted for _, wanted in pending))
    missing: set[tuple[str, str]] = set()
    for start in range(0, len(targets), ANCESTOR_BITS_PER_PASS):
        bit = {target: 1 << i for i, target in enumerate(targets[start : start + ANCESTOR_BITS_PER_PASS])}
        reach: dict[str, int] = {}
        for step_id in order:
            bits = 0
            for dep in parents[step_id]:
                bits |= reach.get(dep, 0) | bit.get(dep, 0)
            if bits:
                reach[step_id] = bits
        for step_id, wanted in pending:
            if wanted in bit and not reach.get(step_id, 0) & bit[wanted]:
                missing.add((step_id, wanted))
    return missing
