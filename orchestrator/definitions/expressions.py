"""Templates (``{{ … }}``) in step configs, ``when`` and ``outputs``.

Evaluated in Jinja2's ``ImmutableSandboxedEnvironment``: no access to private
attributes, no mutating methods on the context (``input.items.append(…)``), and
ranges / string repetition / powers are capped so a template cannot eat the worker.

Context keys: ``input``, ``steps`` (``{id: {"output": …, "status": …}}``), ``run``,
and in loops ``item`` and ``index``.

Choices a user sees:

* A string that is exactly one expression (``"{{ steps.a.output.items }}"``, spaces
  around allowed) yields the value with its own type; any other string renders to text.
* ``x.key`` on a dict reads the key first (Jinja would return ``dict.items`` for
  ``output.items``); methods are still reachable when no such key exists.
* A missing key or name raises :class:`ExpressionError`, never renders as empty text.
* In mixed text, dicts and lists render as JSON, not as Python reprs.
* ``tojson`` is plain ``json.dumps`` (Jinja's own escapes ``<>&'`` for HTML);
  ``fromjson`` parses a string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, nodes
from jinja2.runtime import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import missing

# Caps for operators the sandbox lets through; Jinja already caps range() at 100,000.
MAX_SEQUENCE_LENGTH = 1_000_000
MAX_EXPONENT = 1_000
CACHE_SIZE = 32_768


class ExpressionError(TemplateError):
    """A template that cannot be parsed or evaluated; the message is for people."""


class _Undefined(StrictUndefined):
    """Fails with an :class:`ExpressionError` that names the missing key and what exists."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        if self._undefined_obj is missing:
            return f"{self._undefined_name!r} is undefined"
        if isinstance(self._undefined_obj, Mapping):
            keys = ", ".join(repr(k) for k in list(self._undefined_obj)[:10])
            more = ", …" if len(self._undefined_obj) > 10 else ""
            return f"key {self._undefined_name!r} not found (available keys: {keys or 'none'}{more})"
        return super()._undefined_message

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        raise ExpressionError(self._undefined_message)

    __iter__ = __str__ = __len__ = _fail_with_undefined_error
    __eq__ = __ne__ = __bool__ = __hash__ = _fail_with_undefined_error
    __contains__ = _fail_with_undefined_error


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def _fromjson(value: Any) -> Any:
    if not isinstance(value, str | bytes):
        raise ExpressionError(f"fromjson expects a string, got {type(value).__name__}")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ExpressionError(f"fromjson could not parse {value[:80]!r}: {exc}") from exc


def _finalize(value: Any) -> Any:
    # Mixed text like "Summarize {{ steps.fetch.output.body }}" should carry JSON, not a Python repr.
    if isinstance(value, dict | list | tuple):
        return _tojson(value)
    return value


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > MAX_SEQUENCE_LENGTH
                ):
                    raise SecurityError(f"repeating a sequence beyond {MAX_SEQUENCE_LENGTH:,} items is not allowed")
        return super().call_binop(context, operator, left, right)


_env = _Environment(undefined=_Undefined, autoescape=False, finalize=_finalize, keep_trailing_newline=True)
_env.filters["tojson"] = _tojson
_env.filters["fromjson"] = _fromjson

# "{{ expr }}" alone, spaces around allowed; the inner part is checked again below.
_SINGLE = re.compile(r"\A\s*\{\{(.*)\}\}\s*\Z", re.DOTALL)


def is_template(value: str) -> bool:
    """Whether a string contains any Jinja markup (and so needs rendering or parsing)."""
    return "{" in value and ("{{" in value or "{%" in value or "{#" in value)


def _single_expression(source: str) -> str | None:
    match = _SINGLE.match(source)
    if match is None:
        return None
    inner = match.group(1)
    if "{{" in inner or "}}" in inner or "{%" in inner or "{#" in inner:
        return None
    # Whitespace control ("{{- x -}}") belongs to the tag, not to the expression.
    if inner[:1] in "-+":
        inner = inner[1:]
    if inner[-1:] == "-":
        inner = inner[:-1]
    return inner


def _people_wording(message: str) -> str:
    return (
        message.replace("'end of print statement'", "'}}'")
        .replace("'end of statement block'", "'%}'")
        .replace("end of template", "end of text")
        .rstrip(".")
    )


@lru_cache(maxsize=CACHE_SIZE)
def _compiled_expression(inner: str) -> Any:
    return _env.compile_expression(inner, undefined_to_none=False)


@lru_cache(maxsize=CACHE_SIZE)
def _compiled_template(source: str) -> Any:
    return _env.from_string(source)


def _failure(source: str, exc: Exception) -> ExpressionError:
    if isinstance(exc, TemplateSyntaxError):
        return ExpressionError(f"Invalid template {source!r}: {_people_wording(exc.message or str(exc))}")
    if isinstance(exc, SecurityError):
        return ExpressionError(f"Template {source!r} is not allowed: {exc}")
    if isinstance(exc, ExpressionError):
        return ExpressionError(f"Template {source!r} failed: {exc.message}")
    return ExpressionError(f"Template {source!r} failed: {type(exc).__name__}: {exc}")


def _evaluate_inner(source: str, inner: str, context: dict) -> Any:
    try:
        result = _compiled_expression(inner)(**context)
        if isinstance(result, _Undefined):
            result._fail_with_undefined_error()
    except Exception as exc:
        raise _failure(source, exc) from exc
    return result


def _render_string(source: str, context: dict) -> Any:
    if not is_template(source):
        return source
    inner = _single_expression(source)
    if inner is not None:
        return _evaluate_inner(source, inner, context)
    try:
        return _compiled_template(source).render(**context)
    except Exception as exc:
        raise _failure(source, exc) from exc


def render(value: Any, context: dict) -> Any:
    """Render every template string inside ``value`` (dicts and lists recursively).

    A string that is one expression keeps the value's type; other strings become text.
    Raises :class:`ExpressionError` on any syntax or evaluation problem.
    """
    if isinstance(value, str):
        return _render_string(value, context)
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, context) for item in value]
    return value


def as_expression(expression: str) -> str:
    """A bare expression (``"steps.a.output.ok"``) wrapped as a template; templates stay as they are."""
    return expression if is_template(expression) else "{{ " + expression + " }}"


def evaluate(expression: str, context: dict) -> Any:
    """Evaluate ``expression`` given with or without ``{{ }}`` (``when``, condition ``expression``).

    Text with several templates around it renders to a string. A non-string (``when: true``)
    is its own value.
    """
    if not isinstance(expression, str):
        return expression
    return _render_string(as_expression(expression.strip()), context)


# --- Static analysis: which steps a template names, and syntax problems -----------------
#
# Validation of 10,000 steps must take well under half a second, and Jinja's parser costs
# ~100 µs per string. Most templates are plain paths ("{{ steps.fetch.output.body.id }}",
# optionally piped through filters): a fully anchored grammar recognises exactly those,
# a subset of Jinja that is always valid, and reads the step id off it. Anything else goes
# through Jinja's parser and the step ids come from its AST. Results are cached per string.

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
# .name, ['name'] or ["name"]; no braces inside quotes, so "{{" can only ever open a tag.
_ACCESSOR = rf"(?:\.{_IDENT}|\['[^'\\\n{{}}]*'\]|\[\"[^\"\\\n{{}}]*\"\])"
# Words that change how Jinja parses an expression; a path starting with one is left to Jinja.
_KEYWORDS = "not|and|or|in|is|if|else|true|false|none|True|False|None"
_FILTERS = "|".join(re.escape(name) for name in sorted(_env.filters, key=len, reverse=True))
_TEXT = r"(?:[^{]|\{(?![{%#]))*"
_PATH_TAG = rf"\{{\{{\s*(?!(?:{_KEYWORDS})\b){_IDENT}{_ACCESSOR}*\s*(?:\|\s*(?:{_FILTERS})\b\s*)*\}}\}}"
# The whole string: text and path tags only. One C-level match instead of a Python loop.
_ONLY_PATHS = re.compile(rf"{_TEXT}(?:{_PATH_TAG}{_TEXT})*")
_STEP_REFERENCE = re.compile(rf"\{{\{{\s*steps({_ACCESSOR})")


def _simple_analysis(source: str) -> frozenset[str] | None:
    """Step ids named by ``source`` when every tag in it is a plain path, else None."""
    if _ONLY_PATHS.fullmatch(source) is None:
        return None
    return frozenset(ref[1:] if ref[0] == "." else ref[2:-2] for ref in _STEP_REFERENCE.findall(source))


def _ast_problems(tree: nodes.Template) -> str | None:
    # Jinja reports unknown filters and tests only when compiling; people want them now.
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        if isinstance(node, nodes.Filter) and node.name not in _env.filters:
            return f"unknown filter {node.name!r}"
        if isinstance(node, nodes.Test) and node.name not in _env.tests:
            return f"unknown test {node.name!r}"
    return None


def _ast_references(tree: nodes.Template) -> frozenset[str]:
    refs: set[str] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name == "steps"):
            continue
        if isinstance(node, nodes.Getattr):
            refs.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            refs.add(node.arg.value)
    return frozenset(refs)


@lru_cache(maxsize=CACHE_SIZE)
def analyze(source: str) -> tuple[frozenset[str], str | None]:
    """``(step ids referenced, syntax problem or None)`` for one template string."""
    if not is_template(source):
        return frozenset(), None
    simple = _simple_analysis(source)
    if simple is not None:
        return simple, None
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as exc:
        return frozenset(), _people_wording(exc.message or str(exc))
    return _ast_references(tree), _ast_problems(tree)


def iter_templates(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """``(path, string)`` for every template string inside ``value``."""
    if isinstance(value, str):
        if is_template(value):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_templates(item, (*path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from iter_templates(item, (*path, index))


def template_strings(value: Any, found: list[str]) -> list[str]:
    """Append every template string inside ``value`` to ``found`` (no paths: the fast walk)."""
    if isinstance(value, str):
        if "{" in value and ("{{" in value or "{%" in value or "{#" in value):
            found.append(value)
        return found
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list | tuple):
        return found
    # Strings are handled inline: one call per container, not per value, on this hot path.
    for item in value:
        if isinstance(item, str):
            if "{" in item and ("{{" in item or "{%" in item or "{#" in item):
                found.append(item)
        elif isinstance(item, dict | list | tuple):
            template_strings(item, found)
    return found


def format_path(path: tuple, root: str = "") -> str:
    """``("headers", "X", 0)`` → ``"headers.X[0]"`` (prefixed by ``root``)."""
    text = root
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def referenced_steps(value: Any) -> set[str]:
    """Every step id that a template inside ``value`` names via ``steps.<id>`` or ``steps['<id>']``."""
    refs: set[str] = set()
    for source in template_strings(value, []):
        refs.update(analyze(source)[0])
    return refs


def template_syntax_errors(value: Any) -> list[str]:
    """Syntax problems of the templates inside ``value``, one sentence each."""
    problems = []
    for path, source in iter_templates(value):
        problem = analyze(source)[1]
        if problem is not None:
            where = f" at {format_path(path)}" if path else ""
            problems.append(f"Invalid template{where}: {problem} (in {source!r})")
    return problems
