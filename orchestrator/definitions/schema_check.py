"""JSON Schema checks fast enough for 10,000 step configs, with jsonschema's messages.

``jsonschema`` costs ~50 µs per small config, which alone would use the whole
validation budget. So each schema is also compiled into a plain Python predicate
covering the keywords our schemas use. The predicate only ever answers "surely
valid" (True) or "not sure" (False): on False, Draft 2020-12 ``jsonschema`` runs
and its errors are reported. A schema with a keyword the compiler does not know
gets no predicate, and jsonschema always decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

Check = Callable[[Any], bool]

# Keywords with no effect on validity (Draft202012Validator does not assert "format").
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "format",
        "$comment",
        "errorMessage",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)


class _Unsupported(Exception):
    pass


_TYPE_TESTS = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
    "integer": (
        "((isinstance({v}, int) and not isinstance({v}, bool)) or (isinstance({v}, float) and {v}.is_integer()))"
    ),
}
_BOUNDS = {"minimum": "<", "maximum": ">", "exclusiveMinimum": "<=", "exclusiveMaximum": ">="}  # the failing comparison

_HANDLED = frozenset(
    {
        "type", "properties", "required", "dependentRequired", "additionalProperties", "minProperties",
        "maxProperties", "items", "minItems", "maxItems", "uniqueItems", "enum", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern", "anyOf", "oneOf", "allOf", "not",
    }
)  # fmt: skip


class _Generator:
    """Writes one Python function per (sub)schema; each returns False at the first failed keyword.

    Generated code beats nested closures by ~3x here. Only literals from our own schemas
    reach the source, through ``repr``; patterns and enums are passed in as constants.
    """

    def __init__(self) -> None:
        self.functions: list[str] = []
        self.constants: dict[str, Any] = {}
        self.counter = 0

    def _name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _constant(self, value: Any) -> str:
        name = self._name("_c")
        self.constants[name] = value
        return name

    def function(self, schema: Any, exact: bool) -> str:
        """Name of a generated ``f(x) -> bool`` for ``schema``.

        True means valid; False means invalid, or (unless ``exact``) not sure.
        """
        name = self._name("_f")
        lines = [f"def {name}(v0):"]
        self.emit(schema, "v0", exact, lines, 1)
        lines.append("    return True")
        self.functions.append("\n".join(lines))
        return name

    def emit(self, schema: Any, v: str, exact: bool, lines: list[str], depth: int) -> None:
        pad = "    " * depth
        if schema is True:
            return
        if schema is False:
            lines.append(f"{pad}return False")
            return
        if not isinstance(schema, dict) or any(k not in _HANDLED and k not in _ANNOTATIONS for k in schema):
            raise _Unsupported
        if "type" in schema:
            names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
            if not isinstance(names, list) or any(n not in _TYPE_TESTS for n in names):
                raise _Unsupported
            test = " or ".join(_TYPE_TESTS[n].format(v=v) for n in names)
            lines.append(f"{pad}if not ({test}): return False")
        if "enum" in schema:
            if not all(isinstance(e, str) for e in schema["enum"]):
                raise _Unsupported
            allowed = self._constant(frozenset(schema["enum"]))
            lines.append(f"{pad}if not (isinstance({v}, str) and {v} in {allowed}): return False")
        number = f"isinstance({v}, (int, float)) and not isinstance({v}, bool)"
        for key, failing in _BOUNDS.items():
            if key in schema:
                if not isinstance(schema[key], int | float) or isinstance(schema[key], bool):
                    raise _Unsupported
                lines.append(f"{pad}if {number} and {v} {failing} {schema[key]!r}: return False")
        if "minLength" in schema:
            lines.append(f"{pad}if isinstance({v}, str) and len({v}) < {int(schema['minLength'])}: return False")
        if "maxLength" in schema:
            lines.append(f"{pad}if isinstance({v}, str) and len({v}) > {int(schema['maxLength'])}: return False")
        if "pattern" in schema:
            search = self._constant(re.compile(schema["pattern"]).search)  # jsonschema uses re.search too
            lines.append(f"{pad}if isinstance({v}, str) and {search}({v}) is None: return False")
        self._emit_object(schema, v, exact, lines, depth)
        self._emit_array(schema, v, exact, lines, depth)
        if "anyOf" in schema:
            if not schema["anyOf"]:
                raise _Unsupported
            calls = " or ".join(f"{self.function(sub, exact)}({v})" for sub in schema["anyOf"])
            lines.append(f"{pad}if not ({calls}): return False")
        if "oneOf" in schema:
            calls = " + ".join(f"{self.function(sub, True)}({v})" for sub in schema["oneOf"])
            lines.append(f"{pad}if ({calls}) != 1: return False")
        for sub in schema.get("allOf", ()):
            self.emit(sub, v, exact, lines, depth)
        if "not" in schema:
            lines.append(f"{pad}if {self.function(schema['not'], True)}({v}): return False")

    def _emit_object(self, schema: dict, v: str, exact: bool, lines: list[str], depth: int) -> None:
        keys = ("properties", "required", "dependentRequired", "additionalProperties", "minProperties", "maxProperties")
        if not any(k in schema for k in keys):
            return
        pad = "    " * depth
        lines.append(f"{pad}if isinstance({v}, dict):")
        inner = pad + "    "
        lines.append(f"{inner}pass")
        for key in schema.get("required", ()):
            lines.append(f"{inner}if {key!r} not in {v}: return False")
        for key, names in schema.get("dependentRequired", {}).items():
            missing = " or ".join(f"{n!r} not in {v}" for n in names) or "False"
            lines.append(f"{inner}if {key!r} in {v} and ({missing}): return False")
        if "minProperties" in schema:
            lines.append(f"{inner}if len({v}) < {int(schema['minProperties'])}: return False")
        if "maxProperties" in schema:
            lines.append(f"{inner}if len({v}) > {int(schema['maxProperties'])}: return False")
        properties = schema.get("properties", {})
        for key, sub in properties.items():
            if sub is True or sub == {} or all(k in _ANNOTATIONS for k in sub):
                continue
            child = self._name("v")
            lines.append(f"{inner}{child} = {v}.get({key!r}, _missing)")
            lines.append(f"{inner}if {child} is not _missing:")
            body_start = len(lines)
            self.emit(sub, child, exact, lines, depth + 2)
            if len(lines) == body_start:
                lines.append(f"{inner}    pass")
        additional = schema.get("additionalProperties", True)
        if additional is not True:
            known = self._constant(frozenset(properties))
            key_var, child = self._name("k"), self._name("v")
            lines.append(f"{inner}for {key_var}, {child} in {v}.items():")
            lines.append(f"{inner}    if {key_var} in {known}: continue")
            body_start = len(lines)
            self.emit(additional, child, exact, lines, depth + 2)
            if len(lines) == body_start:
                lines.append(f"{inner}    pass")

    def _emit_array(self, schema: dict, v: str, exact: bool, lines: list[str], depth: int) -> None:
        if not any(k in schema for k in ("items", "minItems", "maxItems", "uniqueItems")):
            return
        pad = "    " * depth
        inner = pad + "    "
        lines.append(f"{pad}if isinstance({v}, list):")
        lines.append(f"{inner}pass")
        if "minItems" in schema:
            lines.append(f"{inner}if len({v}) < {int(schema['minItems'])}: return False")
        if "maxItems" in schema:
            lines.append(f"{inner}if len({v}) > {int(schema['maxItems'])}: return False")
        if schema.get("uniqueItems"):
            if exact:
                raise _Unsupported  # the check below can answer "not sure", which a "not"/"oneOf" would invert
            # Only text items are compared here; jsonschema's equality rules decide anything else.
            lines.append(
                f"{inner}if not all(isinstance(i, str) for i in {v}) or len(set({v})) != len({v}): return False"
            )
        if "items" in schema and schema["items"] is not True:
            child = self._name("v")
            lines.append(f"{inner}for {child} in {v}:")
            body_start = len(lines)
            self.emit(schema["items"], child, exact, lines, depth + 2)
            if len(lines) == body_start:
                lines.append(f"{inner}    pass")


def compile_check(schema: Any) -> Check | None:
    """A fast predicate for ``schema`` (True: surely valid), or None when a keyword is not supported."""
    generator = _Generator()
    try:
        entry = generator.function(schema, exact=False)
    except _Unsupported:
        return None
    namespace: dict[str, Any] = {"_missing": object(), **generator.constants}
    exec("\n\n".join(generator.functions), namespace)  # source built from our own schemas only
    return namespace[entry]


class SchemaCheck:
    """A precompiled validator for one schema: a fast verdict, and people-worded errors."""

    def __init__(self, schema: dict) -> None:
        self.validator = Draft202012Validator(schema)
        self.fast: Check | None = compile_check(schema)

    def errors(self, instance: Any, root: str) -> list[str]:
        """Messages like ``"'url' is a required property at config"``; empty when valid."""
        if self.fast is not None and self.fast(instance):
            return []
        found = sorted(self.validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
        return [f"{error_message(error)} at {error_path(error, root)}" for error in found]


def error_path(error: ValidationError, root: str) -> str:
    text = root
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_message(error: ValidationError) -> str:
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(custom, dict):
        custom = custom.get(error.validator)
    if isinstance(custom, str):
        return custom.replace("{value}", _short_repr(error.instance))
    if error.validator in ("anyOf", "oneOf") and error.context:
        # Without a sentence of our own, the deepest sub-error says the most.
        best = max(error.context, key=lambda e: len(e.absolute_path))
        return best.message
    return error.message
