"""The seed documents' example requests and answers, read from the documents themselves.

``seeds/`` holds verbatim copies of ``shared/seeds/000`` … ``004`` (the copy is checked against the
original where that folder is reachable; ``001``, the canonical API, is there for its list of paths). Tests take their
requests from here rather than retyping them: a body, a query string or a header is what the
document says. What a test may change is named: the document's example IDs become the IDs of
objects the test made, and ``YOUR_API_KEY`` becomes a real key.

The documents elide some values (``"nodes": [...]``); those read as empty.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SEEDS = Path(__file__).resolve().parent / "seeds"
ORIGINALS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

_DECODER = json.JSONDecoder()


def document(number: str) -> str:
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return path.read_text()


def _relaxed(text: str) -> str:
    return text.replace("[...]", "[   ]")  # same length: positions in the document stay valid


def json_after(doc: str, anchor: str, *, start: int = 0) -> tuple[Any, int]:
    """The first JSON object or array after ``anchor`` (searched from ``start``), and where it ends."""
    text = _relaxed(doc)
    at = text.index(anchor, start) + len(anchor)
    match = re.compile(r"[\[{]").search(text, at)
    assert match is not None, f"no JSON after {anchor!r}"
    value, end = _DECODER.raw_decode(text, match.start())
    return value, end


@dataclass
class Example:
    """One ``curl`` example of a document, with the answer the document shows after it."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    status: int | None = None
    answer: Any = None

    @property
    def path(self) -> str:
        """The path and query of ``url``, without the document's host."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def curl_examples(doc: str) -> list[Example]:
    examples = []
    for match in re.finditer(r"^curl ", doc, re.MULTILINE):
        end = doc.find("\n\n", match.start())
        command = doc[match.start() : end if end != -1 else len(doc)].replace("\\\n", " ")
        words = shlex.split(command)[1:]
        example = Example(method="GET", url="")
        index = 0
        while index < len(words):
            word = words[index]
            if word == "-X":
                example.method, index = words[index + 1], index + 2
            elif word == "-H":
                name, _, value = words[index + 1].partition(":")
                example.headers[name.strip()] = value.strip()
                index += 2
            elif word in ("-d", "--data"):
                example.body, index = json.loads(words[index + 1]), index + 2
            else:
                example.url, index = word, index + 1
        found = re.compile(r"Response (\d{3})\s*\n").search(doc, end) if end != -1 else None
        following = doc.find("curl ", end) if end != -1 else -1
        if found and (following == -1 or found.start() < following):
            example.status = int(found.group(1))
            example.answer, _ = json_after(doc, found.group(0), start=found.start())
        examples.append(example)
    return examples


def example(examples: list[Example], method: str, path_pattern: str) -> Example:
    """The one example with this method whose path matches ``path_pattern`` (a regex, anchored)."""
    found = [e for e in examples if e.method == method and re.fullmatch(path_pattern, e.path)]
    assert len(found) == 1, f"{len(found)} examples match {method} {path_pattern}"
    return found[0]


def with_ids(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with each of the document's example IDs replaced by the test's own."""
    text = json.dumps(value)
    for theirs, ours in ids.items():
        text = text.replace(theirs, ours)
    return json.loads(text)


# Fields whose content is the caller's own data (a definition, a run's input or output): the
# document's example data is not ours, so only the field's presence and kind are compared.
DATA_FIELDS = frozenset({"definition", "inputs", "outputs", "input", "output", "config"})


def assert_documented_fields(
    actual: Any, documented: Any, where: str = "answer", *, nullable: frozenset[str] = frozenset()
) -> None:
    """Every field the document shows is in ``actual`` with a value of the same JSON kind, down to
    every nested object and each list's first item (inside ``DATA_FIELDS`` only the kind). A
    ``null`` in the document allows any value; ``actual`` may be ``null`` where the document shows
    a value only for the field names in ``nullable`` (data this test's objects do not have yet,
    such as a schedule's last run)."""
    if documented is None:
        return
    if where.rsplit(".", 1)[-1] in DATA_FIELDS and actual is not None:
        assert isinstance(actual, type(documented)), f"{where}: {actual!r} is not like {documented!r}"
        return
    if actual is None:
        assert where.rsplit(".", 1)[-1] in nullable, f"{where}: null where the document shows {documented!r}"
        return
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        missing = sorted(set(documented) - set(actual))
        assert not missing, f"{where}: missing {missing}"
        for key, value in documented.items():
            assert_documented_fields(actual[key], value, f"{where}.{key}", nullable=nullable)
    elif isinstance(documented, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not a list"
        if documented and actual:
            assert_documented_fields(actual[0], documented[0], f"{where}[0]", nullable=nullable)
    elif isinstance(documented, bool):
        assert isinstance(actual, bool), f"{where}: {actual!r} is not a boolean"
    elif isinstance(documented, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), f"{where}: {actual!r} is no number"
    elif isinstance(documented, str):
        assert isinstance(actual, str), f"{where}: {actual!r} is not a string"
