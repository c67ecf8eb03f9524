"""Text handling of the rules parser: entities set aside as markers, sentences and clauses, and small
helpers that turn words into IDs, names, JMESPath and durations."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from orchestrator.authoring.rules.vocabulary import (
    CHANNEL_RE,
    CLAUSE_START,
    DURATION_UNITS,
    EMAIL_RE,
    ENTITY_RE,
    FILLERS,
    JSON_RE,
    NUMBER_WORDS,
    QUOTE_RE,
    STOPWORDS,
    TOOL_RE,
    URL_RE,
    VERB_WORDS,
)


@dataclass
class Entities:
    urls: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    jsons: list[Any] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)

    def get(self, kind: str, index: int) -> Any:
        return getattr(self, {"url": "urls", "email": "emails", "channel": "channels", "json": "jsons",
                              "quote": "quotes", "tool": "tools"}[kind])[index]  # fmt: skip


def protect_entities(text: str, tools: list[str]) -> tuple[str, Entities]:
    """Replace entities by ⟪kind N⟫ markers (kept through splitting), remembering each."""
    found = Entities()

    def marker(kind: str, bucket: list, value: Any) -> str:
        bucket.append(value)
        return f" ⟪{kind}{len(bucket) - 1}⟫ "

    def url(match: re.Match) -> str:
        value = match.group(0).rstrip(".,;:!?")
        tail = match.group(0)[len(value) :]
        return marker("url", found.urls, value) + tail

    text = URL_RE.sub(url, text)
    text = EMAIL_RE.sub(lambda m: marker("email", found.emails, m.group(0)), text)

    def literal(match: re.Match) -> str:
        try:
            return marker("json", found.jsons, json.loads(match.group(0)))
        except ValueError:
            return match.group(0)

    text = JSON_RE.sub(literal, text)
    text = QUOTE_RE.sub(lambda m: marker("quote", found.quotes, next(g for g in m.groups() if g is not None)), text)
    text = CHANNEL_RE.sub(lambda m: marker("channel", found.channels, "#" + m.group(1).rstrip(".")), text)
    known = {tool.lower() for tool in tools}

    def tool(match: re.Match) -> str:
        name = match.group(1)
        explicit = re.search(r"\b(?:with|using|use|via|call|through|run)\s+$", text[: match.start()], re.IGNORECASE)
        if name.lower() in known or explicit:
            return marker("tool", found.tools, name)
        return name

    text = TOOL_RE.sub(tool, text)
    return re.sub(r"\s+", " ", text).strip(), found


# --- splitting --------------------------------------------------------------------------------


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?;])\s+|;\s*|:\s+|\n+", text)
    return [p.strip(" .!?;:,") for p in parts if p and p.strip(" .!?;:,")]


CLAUSE_SPLIT = re.compile(
    r"\s*(?:,\s*and\s+then|\band\s+then|,\s*then|\bthen|after\s+that|afterwards|,\s*and\s+finally|\band\s+finally)\s+"
    r"|\s*(?:,\s*and|,|\band)\s+(?=" + CLAUSE_START + r")",
    re.IGNORECASE,
)


def split_clauses(sentence: str) -> list[str]:
    return [c.strip(" ,") for c in CLAUSE_SPLIT.split(sentence) if c and c.strip(" ,")]


# --- the parse result -------------------------------------------------------------------------


def lower_first(text: str) -> str:
    """ "Post to #x" → "post to #x", but "POST to …" and "Salesforce" keep their case."""
    if len(text) > 1 and text[1].isupper():
        return text
    if text.split(" ", 1)[0].rstrip(":") in ("Salesforce", "Hubspot", "Jira", "Github", "Slack"):
        return text
    return text[:1].lower() + text[1:]


def title(text: str, limit: int) -> str:
    text = text.strip(" ,.")
    text = text[0].upper() + text[1:] if text else text
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def audience_of(words: list[str]) -> str:
    joined = " ".join(words)
    match = re.search(r"\bto\s+((?:the\s+)?[a-z][a-z -]{1,40}?)(?:\s+(?:every|each|at|on|if|by)\b|$)", joined)
    if match and not match.group(1).startswith(("it", "them")):
        return match.group(1).strip()
    return "the recipients"


def jmespath_for(verb: str, target: str) -> str:
    words = [w for w in re.findall(r"[a-z][a-z0-9_]*", target) if w not in STOPWORDS]
    if verb == "count":
        return "length(@)"
    if verb in ("filter", "keep", "select") and words:
        field_name = words[0] if words[0] not in ("ones", "items", "records", "rows") else "active"
        return f"[?{jmespath_identifier(field_name)}]"
    if verb == "sort" and words:
        by = words[-1]
        return f"sort_by(@, &{jmespath_identifier(by)})"
    if verb in ("extract", "pick", "map") and words:
        return jmespath_identifier("_".join(words[-2:]) if len(words) > 1 else words[0])
    return "@"


def jmespath_identifier(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else json.dumps(name)


def duration_of(words: list[str]) -> tuple[int, str] | None:
    joined = " ".join(words)
    match = re.search(
        r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")\s+(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)\b", joined
    )
    if not match:
        return None
    n = int(match.group(1)) if match.group(1).isdigit() else NUMBER_WORDS[match.group(1)]
    unit = match.group(2).rstrip("s")
    return n * DURATION_UNITS[unit], f"{n} {match.group(2)}"


def markers(text: str, kind: str) -> list[int]:
    return [int(m.group(2)) for m in ENTITY_RE.finditer(text) if m.group(1) == kind]


def leading_verb(words: list[str]) -> tuple[str | None, int]:
    """(verb, its index) of the clause's first meaningful word, when it is a verb we know."""
    for index, word in enumerate(words):
        if word in FILLERS:
            continue
        if word == "back" and index + 1 < len(words) and words[index + 1] == "up":
            return "backup", index
        if word == "look" and index + 1 < len(words) and words[index + 1] == "up":
            return "lookup", index
        if word in ("set", "sets") and index + 1 < len(words) and words[index + 1] == "up":
            return None, index
        word = {"e-mail": "email", "summarise": "summarize", "analyse": "analyze", "categorise": "categorize"}.get(
            word, word
        )
        if word in VERB_WORDS:
            return word, index
        if word.endswith("s") and word[:-1] in VERB_WORDS:  # "… that scrapes a URL"
            return word[:-1], index
        if word.endswith("es") and word[:-2] in VERB_WORDS:  # "pushes", "fetches"
            return word[:-2], index
        return None, index
    return None, -1


def snake(text: str, limit: int = 40) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "_".join(words)[:limit].strip("_") or "step"


def tokens_of(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*|\d+|⟪\w+⟫", text.lower())


def host_path(url: str) -> str:
    template = re.fullmatch(r"\{\{\s*([\w.]+)\s*\}\}", url)
    if template:
        return template.group(1)  # "input.url"
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return (parts.netloc + path)[:60] if parts.netloc else url[:60]


def url_noun(url: str) -> str:
    parts = urlsplit(url)
    segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
    segment = re.sub(r"\.\w+$", "", segment)
    return segment if re.fullmatch(r"[A-Za-z][\w-]*", segment or "") else parts.netloc.split(".")[0]


def restore_entities(text: str, entities: Entities) -> str:
    """The clause for people: markers back to their text."""

    def back(match: re.Match) -> str:
        value = entities.get(match.group(1), int(match.group(2)))
        return json.dumps(value) if match.group(1) == "json" else str(value)

    return re.sub(r"\s+", " ", ENTITY_RE.sub(back, text)).strip(" ,.")


def object_phrase(words: list[str], start: int = 1) -> str:
    """The noun phrase after the verb, up to a preposition that starts something else."""
    out = []
    for word in words[start:]:
        if word in {"to", "from", "into", "in", "at", "on", "via", "with", "using", "and", "if", "unless", "for",
                    "then", "by", "as", "every", "each", "when"} or word.startswith("⟪"):  # fmt: skip
            break
        out.append(word)
    return " ".join(w for w in out if w not in {"the", "a", "an", "all", "some", "any", "latest", "it", "them"})
