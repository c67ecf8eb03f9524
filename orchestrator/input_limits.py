"""Limits on every value the service accepts: nesting depth, text PostgreSQL can store, size.

PostgreSQL refuses NUL in text and JSON and lone surrogates in UTF-8; Python recurses once per
nesting level when it copies, compares, validates or serializes a value. So a body is checked
here before anything else walks it, and services check again what reaches them another way
(a stored definition copied, a YAML document, a compat surface). Every check is iterative:
a value nested 10,000 deep is refused without recursing into it.

A leaf module: it imports settings and ``orchestrator.errors`` only.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

import yaml
from django.conf import settings

from orchestrator.errors import ValidationFailed

# NUL and the UTF-16 surrogate range: neither can be stored in PostgreSQL text or jsonb.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# In JSON text: a \u0000 escape, or a surrogate escape (a valid pair is cleared by the walk).
_RISKY_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
# A JSON string literal (escapes included), so brackets inside strings do not count as nesting.
# Possessive and ending at the text's end too: never backtracks, so an unterminated string
# cannot make the scan quadratic.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\Z)', re.DOTALL)
# Where InputGuardMiddleware leaves a body it has parsed and checked, so the parser does not
# parse it a second time.
CHECKED_BODY = "_orchestrator_checked_body"
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def max_depth() -> int:
    return settings.ORCHESTRATOR_MAX_JSON_DEPTH


def _fail(field: str | None, message: str, summary: str | None = None) -> ValidationFailed:
    return ValidationFailed(
        summary or (f"{field}: {message}" if field else message), details=[{"field": field or None, "message": message}]
    )


def json_text_depth(text: str) -> int:
    """How deeply a JSON text nests, counted over its brackets without parsing it (C-speed
    regexes and ``accumulate``: a megabyte of ``[`` takes milliseconds, not a stack)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    return max(accumulate(_STEP[ch] for ch in brackets))


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _describe(text: str) -> str:
    found = UNSTORABLE.search(text)
    assert found is not None
    return "contains a NUL character" if found.group() == "\x00" else "contains a lone surrogate (not valid Unicode)"


def value_check(value: Any, field: str = "") -> int:
    """Refuse (400 naming the path) a value nested deeper than ORCHESTRATOR_MAX_JSON_DEPTH, a
    string or key PostgreSQL cannot store, a number JSON cannot carry (NaN, infinity), and any
    type that is not JSON. Answers the value's size in bytes as compact JSON.

    The common case runs at C speed: serialize once (the encoder escapes NUL as ``\\u0000`` and
    leaves a lone surrogate raw), count brackets, search the text. Only a value that trips one
    of these is walked (iteratively) to name the path, or cleared (a literal backslash-u0000)."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        _walk_check(value, field)
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    else:
        if "\\u0000" in text or json_text_depth(text) > max_depth() or _SURROGATE.search(text):
            _walk_check(value, field)
    return len(text.encode("utf-8", "surrogatepass"))


def _walk_check(value: Any, field: str = "") -> None:
    """``value_check``'s exact walk: the first problem, with its path. Also refuses non-string
    keys (YAML's ``1:`` or ``on:``), which serializing would silently turn into strings."""
    limit = max_depth()
    stack: list[tuple[Any, str, int]] = [(value, field, 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                raise _fail(path, f"The text {_describe(item)}.")
        elif isinstance(item, bool) or item is None or isinstance(item, int):
            continue
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _fail(path, "Numbers must be finite (no NaN or infinity).")
        elif isinstance(item, dict | list):
            if depth > limit:
                raise _fail(
                    path,
                    f"Nested deeper than {limit} levels.",
                    f"{path or 'The value'} is nested deeper than {limit} levels (ORCHESTRATOR_MAX_JSON_DEPTH).",
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        raise _fail(path, f"Keys must be strings, not {type(key).__name__} ({key!r}).")
                    if UNSTORABLE.search(key):
                        raise _fail(_path(path, "<key>"), f"The key {_describe(key)}.")
                    stack.append((child, _path(path, key), depth + 1))
            else:
                stack.extend((child, _path(path, index), depth + 1) for index, child in enumerate(item))
        else:
            raise _fail(path, f"Not a JSON value ({type(item).__name__}).")


def text_check(value: str, field: str, *, max_length: int | None = None) -> str:
    """A single text field: storable, and at most ``max_length`` characters (the column's)."""
    if not isinstance(value, str):
        raise _fail(field, "Must be a string.")
    if UNSTORABLE.search(value):
        raise _fail(field, f"The text {_describe(value)}.")
    if max_length is not None and len(value) > max_length:
        raise _fail(field, f"Ensure this field has no more than {max_length} characters (it has {len(value)}).")
    return value


def definition_size_check(definition: Any, field: str = "definition") -> None:
    """A stored definition is at most ORCHESTRATOR_MAX_DEFINITION_BYTES, however it arrived."""
    size = value_check(definition, field)
    limit = settings.ORCHESTRATOR_MAX_DEFINITION_BYTES
    if size > limit:
        raise ValidationFailed(
            f"The definition is {size} bytes as JSON; the limit is {limit} bytes (ORCHESTRATOR_MAX_DEFINITION_BYTES).",
            details=[{"field": field, "message": f"{size} bytes; at most {limit}."}],
            code="definition_too_large",
        )


# --- JSON and YAML text ------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"The number {text[:40]} is out of range")
    return number


def json_load(text: str | bytes, field: str = "") -> Any:
    """Parse a JSON text under the limits: depth counted before parsing (the parser recurses),
    NaN/Infinity and overflowing floats refused, every string and key then checked."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(field, f"The body is not valid UTF-8 (byte {exc.start}).") from exc
    limit = max_depth()
    depth = json_text_depth(text)
    if depth > limit:
        raise ValidationFailed(
            f"The JSON is nested {depth} levels deep; the limit is {limit} (ORCHESTRATOR_MAX_JSON_DEPTH).",
            details=[{"field": field or None, "message": f"Nested deeper than {limit} levels."}],
        )
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError; so is a 5,000-digit int
        raise ValidationFailed(f"JSON parse error - {exc}", code="parse_error") from exc
    # Decoded strictly from UTF-8 and parsed strictly, the only way to a NUL or a surrogate is an
    # escape: walk (to name the path) only when the text has one. Depth and numbers are settled.
    if _RISKY_ESCAPE.search(text):
        _walk_check(value, field)
    return value


class _DepthError(Exception):
    pass


class LimitedSafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader without aliases or anchors (the billion-laughs expansion), with
    nesting bounded while composing (the composer recurses), and timestamps kept as strings
    (a ``datetime`` is no JSON value)."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted; write the value out", event.start_mark
            )
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "YAML anchors (&name) are not accepted; write the value out", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > max_depth():
                raise _DepthError
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def yaml_load(text: str | bytes, field: str = "") -> Any:
    """Parse a YAML (or JSON) document under the same limits as JSON."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(field, f"The document is not valid UTF-8 (byte {exc.start}).") from exc
    if UNSTORABLE.search(text):
        # PyYAML would refuse raw NUL itself; say which problem it is.
        raise _fail(field, f"The document {_describe(text)}.")
    limit = max_depth()
    try:
        value = yaml.load(text, Loader=LimitedSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except _DepthError as exc:
        raise ValidationFailed(
            f"The document is nested deeper than {limit} levels (ORCHESTRATOR_MAX_JSON_DEPTH).",
            details=[{"field": field or None, "message": f"Nested deeper than {limit} levels."}],
        ) from exc
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        raise ValidationFailed(f"The document is neither valid JSON nor valid YAML: {exc}", code="parse_error") from exc
    _walk_check(value, field)
    return value
