"""RFC 6902 diff between two definitions, with a summary a person reads."""

from __future__ import annotations

import jsonpatch


def _steps_by_id(definition: dict) -> dict[str, dict]:
    return {s.get("id"): s for s in definition.get("steps", []) if isinstance(s, dict)}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def definition_diff(old: dict, new: dict) -> tuple[list[dict], str]:
    ops = jsonpatch.make_patch(old, new).patch
    before, after = _steps_by_id(old), _steps_by_id(new)
    added = [sid for sid in after if sid not in before]
    removed = [sid for sid in before if sid not in after]
    modified = [sid for sid in after if sid in before and after[sid] != before[sid]]
    parts = []
    if added:
        parts.append(f"Added {_plural(len(added), 'step')}")
    if removed:
        parts.append(f"removed {_plural(len(removed), 'step')}")
    if modified:
        parts.append(f"modified {_plural(len(modified), 'step')}")
    for section in ("inputs", "outputs", "settings"):
        if old.get(section) != new.get(section):
            parts.append(f"changed {section}")
    if not parts:
        return ops, "No changes"
    summary = ", ".join(parts)
    return ops, summary[0].upper() + summary[1:]
