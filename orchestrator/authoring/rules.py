"""The rules parser: an English instruction → a workflow definition, offline and in milliseconds.

How it reads "Every Monday at 9am, pull the latest sales data, generate a summary report, and
email it to the sales team.":

1. ``schedule_text`` takes the schedule phrase out (``0 9 * * 1``).
2. URLs, email addresses, Slack channels, quoted text, JSON literals and tool names
   (``salesforce.query``) are set aside as entities, so that no later split cuts them.
3. Sentences split at ``. ; :``; a sentence splits into clauses at "then", "after that" and
   at ", and" / "and" / "," when what follows starts with a verb ("and bob@x.com" does not).
4. Each clause is read by its leading verb: fetch-like verbs (get, pull, check, export, …)
   with a URL make an ``http_request``; send-like verbs (post, send, notify, email, …) go to
   a URL (POST), a channel (``slack.post_message``) or an address (``email.send``);
   summarize/analyze/classify/translate/generate a report make an ``agent_task`` whose goal
   is the clause; extract/filter/count/sort make a ``transform``; "wait 2 hours" / "wait for
   approval" make a ``wait``. A tool of ``availableTools`` is chosen when the clause names
   its provider or speaks of what it holds ("pull the latest sales data" → ``salesforce.query``).
5. "if …, A, otherwise B", "A if …", "unless …" make a ``condition`` with ``then``/``else``;
   "for each X in Y, A" / "A for every X from Y" make a ``loop`` around A.
6. Steps are chained in the stated order, each depending on the one before; after a branch,
   the next step depends on both branch ends with ``trigger_rule: none_failed``.

Whatever had to be guessed (a field a condition reads, a recipient that is an input) is
said in ``notes`` and lowers the confidence. Nothing found → ``NotUnderstood``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from orchestrator.authoring.schedule_text import Schedule, schedule_from_text
from orchestrator.errors import DomainError


class NotUnderstood(DomainError):
    """The instruction names nothing a workflow could do."""

    code = "instruction_not_understood"
    status = 422


# --- vocabulary -----------------------------------------------------------------------------

FETCH_VERBS = {
    "get", "fetch", "download", "pull", "retrieve", "read", "load", "grab", "collect", "gather", "scrape",
    "crawl", "call", "hit", "ping", "poll", "check", "monitor", "query", "request", "lookup", "search", "find",
    "export", "archive", "backup", "take", "list", "run", "trigger", "invoke", "watch", "sync", "copy", "mirror",
}  # fmt: skip
SEND_VERBS = {
    "post", "send", "push", "upload", "submit", "deliver", "forward", "publish", "notify", "alert", "message",
    "tell", "remind", "announce", "share", "text", "page", "email", "mail", "e-mail", "put", "patch", "delete",
    "dm", "escalate", "broadcast", "report",
}  # fmt: skip
AGENT_VERBS = {
    "summarize", "summarise", "analyze", "analyse", "classify", "categorize", "categorise", "triage", "label",
    "translate", "generate", "write", "draft", "compose", "rewrite", "score", "qualify", "review", "explain",
    "describe", "answer", "assess", "evaluate", "prioritize", "prioritise", "detect", "tag", "rank", "proofread",
    "paraphrase",
}  # fmt: skip
TRANSFORM_VERBS = {
    "transform", "extract", "filter", "map", "reshape", "select", "pick", "count", "convert", "format", "parse",
    "sort", "dedupe", "deduplicate", "merge", "aggregate", "compute", "calculate", "group", "flatten", "keep",
    "remove", "drop", "sum", "total",
}  # fmt: skip
_FETCH_LABELS = {
    "check": "Check", "ping": "Ping", "poll": "Poll", "monitor": "Check", "export": "Export", "archive": "Archive",
    "backup": "Back up", "download": "Download", "collect": "Collect", "pull": "Pull", "call": "Call", "run": "Call",
    "read": "Read", "query": "Query", "search": "Search", "list": "List", "sync": "Read", "copy": "Read",
    "scrape": "Scrape", "trigger": "Call", "invoke": "Call", "hit": "Call",
}  # fmt: skip
WAIT_VERBS = {"wait", "pause", "sleep", "hold", "delay"}
CREATE_VERBS = {"create", "open", "file", "add", "make", "insert", "update", "upsert", "log", "record", "register"}
FILLERS = {
    "then", "and", "also", "finally", "first", "next", "afterwards", "please", "just", "so", "now", "to", "we",
    "i", "you", "should", "must", "want", "need", "can", "will", "would", "let's", "lets", "also,", "it", "run:",
}  # fmt: skip
CONTENT_NOUNS = {
    "summary": "Summarize",
    "report": "Write a report on",
    "digest": "Write a digest of",
    "analysis": "Analyze",
    "translation": "Translate",
    "recap": "Recap",
    "overview": "Give an overview of",
    "briefing": "Write a briefing on",
    "classification": "Classify",
}
APPROVAL_WORDS = ("approval", "approve", "sign-off", "signoff", "sign off", "confirmation", "go-ahead", "ok")
DURATION_UNITS = {
    "second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400, "week": 604800,
}  # fmt: skip
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10, "fifteen": 15,
                "twenty": 20, "thirty": 30, "few": 3, "couple": 2}  # fmt: skip
# Words that say what a tool's provider holds, to pick a tool the clause does not name.
PROVIDER_DOMAINS = {
    "salesforce": {"sales", "opportunity", "opportunities", "deal", "deals", "pipeline", "lead", "leads", "account",
                   "accounts", "revenue", "bookings", "quota", "crm"},
    "hubspot": {"contact", "contacts", "customer", "customers", "lead", "leads", "crm", "deal", "deals", "company"},
    "jira": {"ticket", "tickets", "issue", "issues", "bug", "bugs", "story", "stories", "sprint", "epic"},
    "linear": {"ticket", "tickets", "issue", "issues", "bug", "bugs"},
    "github": {"issue", "issues", "pull", "pr", "prs", "repository", "repo", "repos", "commit", "commits", "release"},
    "gitlab": {"issue", "issues", "merge", "mr", "repository", "repo", "pipeline"},
    "zendesk": {"ticket", "tickets", "support", "request", "requests", "customer"},
    "stripe": {"payment", "payments", "charge", "charges", "invoice", "invoices", "subscription", "subscriptions",
               "refund", "refunds", "revenue", "customer", "customers"},
    "shopify": {"order", "orders", "product", "products", "inventory", "store", "customer", "customers"},
    "snowflake": {"warehouse", "table", "tables", "rows", "query", "sql", "signups", "metrics", "data"},
    "bigquery": {"warehouse", "table", "tables", "rows", "query", "sql", "dataset", "metrics", "data"},
    "postgres": {"database", "db", "table", "tables", "rows", "sql", "query", "records"},
    "mysql": {"database", "db", "table", "tables", "rows", "sql", "query", "records"},
    "notion": {"page", "pages", "doc", "docs", "database", "note", "notes", "wiki"},
    "google_sheets": {"sheet", "sheets", "spreadsheet", "row", "rows", "cell", "cells"},
    "sheets": {"sheet", "sheets", "spreadsheet", "row", "rows"},
    "airtable": {"base", "table", "record", "records", "row", "rows"},
    "pagerduty": {"incident", "incidents", "oncall", "on-call", "page", "alert"},
    "datadog": {"metric", "metrics", "monitor", "monitors", "dashboard", "logs"},
    "intercom": {"conversation", "conversations", "customer", "customers", "message", "messages"},
}  # fmt: skip
READ_ACTIONS = {"query", "search", "get", "list", "fetch", "read", "find", "lookup", "retrieve", "export", "select"}
WRITE_ACTIONS = {"create", "add", "insert", "update", "upsert", "open", "file", "post", "send", "write", "log"}
STOPWORDS = {
    "the", "a", "an", "of", "to", "for", "in", "on", "at", "by", "with", "from", "into", "and", "or", "it", "its",
    "them", "their", "this", "that", "these", "those", "is", "are", "be", "all", "any", "each", "every", "some",
    "my", "our", "your", "me", "us", "via", "as", "up", "out", "about", "latest", "new", "recent", "current",
}  # fmt: skip

_VERB_WORDS = FETCH_VERBS | SEND_VERBS | AGENT_VERBS | TRANSFORM_VERBS | WAIT_VERBS | CREATE_VERBS
_CLAUSE_START = (
    r"(?:if|unless|when|whenever|otherwise|else|for\s+(?:each|every)|loop|iterate|go\s+through|ask|get|"
    + ("|".join(sorted(_VERB_WORDS, key=len, reverse=True)))
    + r")(?:e?s)?\b"
)

URL_RE = re.compile(r"https?://[^\s<>\"'`,;)\]]+", re.IGNORECASE)
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
CHANNEL_RE = re.compile(r"(?<![\w&])#([A-Za-z0-9][\w.-]*)")
JSON_RE = re.compile(r"\{[^{}]*\}")
QUOTE_RE = re.compile(r"\"([^\"]{1,300})\"|'([^']{1,300})'|“([^”]{1,300})”|‘([^’]{1,300})’")
TOOL_RE = re.compile(r"\b([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)\b")
ENTITY_RE = re.compile(r"⟪(url|email|channel|json|quote|tool)(\d+)⟫")


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


def _protect(text: str, tools: list[str]) -> tuple[str, Entities]:
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


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?;])\s+|;\s*|:\s+|\n+", text)
    return [p.strip(" .!?;:,") for p in parts if p and p.strip(" .!?;:,")]


_SPLIT = re.compile(
    r"\s*(?:,\s*and\s+then|\band\s+then|,\s*then|\bthen|after\s+that|afterwards|,\s*and\s+finally|\band\s+finally)\s+"
    r"|\s*(?:,\s*and|,|\band)\s+(?=" + _CLAUSE_START + r")",
    re.IGNORECASE,
)


def _clauses(sentence: str) -> list[str]:
    return [c.strip(" ,") for c in _SPLIT.split(sentence) if c and c.strip(" ,")]


# --- the parse result -------------------------------------------------------------------------


@dataclass
class Draft:
    """A step being built; ``output`` is the template of what later steps read from it."""

    type: str
    name: str
    config: dict
    hint: str
    output: str | None = None
    extra: dict = field(default_factory=dict)
    id: str = ""
    depends_on: list[str] = field(default_factory=list)
    output_key: str = ""  # "body" → later steps read steps.<id>.output.body


@dataclass
class Parsed:
    name: str
    description: str
    steps: list[dict]
    inputs: dict
    schedule: Schedule | None
    confidence: float
    notes: list[str]
    trigger_type: str = "manual"

    def definition(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "inputs": self.inputs,
            "outputs": {},
            "steps": self.steps,
        }


def _snake(text: str, limit: int = 40) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "_".join(words)[:limit].strip("_") or "step"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*|\d+|⟪\w+⟫", text.lower())


def _host_path(url: str) -> str:
    template = re.fullmatch(r"\{\{\s*([\w.]+)\s*\}\}", url)
    if template:
        return template.group(1)  # "input.url"
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    return (parts.netloc + path)[:60] if parts.netloc else url[:60]


def _url_noun(url: str) -> str:
    parts = urlsplit(url)
    segment = parts.path.rstrip("/").rsplit("/", 1)[-1]
    segment = re.sub(r"\.\w+$", "", segment)
    return segment if re.fullmatch(r"[A-Za-z][\w-]*", segment or "") else parts.netloc.split(".")[0]


def _clean(text: str, entities: Entities) -> str:
    """The clause for people: markers back to their text."""

    def back(match: re.Match) -> str:
        value = entities.get(match.group(1), int(match.group(2)))
        return json.dumps(value) if match.group(1) == "json" else str(value)

    return re.sub(r"\s+", " ", ENTITY_RE.sub(back, text)).strip(" ,.")


def _object_phrase(words: list[str], start: int = 1) -> str:
    """The noun phrase after the verb, up to a preposition that starts something else."""
    out = []
    for word in words[start:]:
        if word in {"to", "from", "into", "in", "at", "on", "via", "with", "using", "and", "if", "unless", "for",
                    "then", "by", "as", "every", "each", "when"} or word.startswith("⟪"):  # fmt: skip
            break
        out.append(word)
    return " ".join(w for w in out if w not in {"the", "a", "an", "all", "some", "any", "latest", "it", "them"})


class _Builder:
    def __init__(self, entities: Entities, tools: list[str]) -> None:
        self.entities = entities
        self.tools = tools
        self.steps: list[Draft] = []
        self.tails: list[str] = []
        self.trigger_rule: str | None = None  # for the next step after a branch
        self.inputs: dict[str, dict] = {}
        self.required: list[str] = []
        self.notes: list[str] = []
        self.guesses = 0
        self.understood = 0
        self.ignored: list[str] = []
        self.loop_item: str | None = None  # inside a loop body: what {{ item }} is

    # --- plumbing ---

    def _unique(self, hint: str) -> str:
        base = _snake(hint) or "step"
        if base[0].isdigit():
            base = f"step_{base}"
        taken = {s.id for s in self.steps}
        candidate, n = base, 2
        while candidate in taken:
            candidate = f"{base}_{n}"
            n += 1
        return candidate

    def add(self, draft: Draft, *, attach: bool = True) -> Draft:
        draft.id = self._unique(draft.hint)
        if attach:
            draft.depends_on = list(self.tails)
            if self.trigger_rule and len(self.tails) > 1:
                draft.extra.setdefault("trigger_rule", self.trigger_rule)
            self.trigger_rule = None
            self.tails = [draft.id]
        self.steps.append(draft)
        if draft.output is None:
            draft.output = f"steps.{draft.id}.output" + (f".{draft.output_key}" if draft.output_key else "")
        return draft

    def previous(self) -> Draft | None:
        if len(self.tails) != 1:
            return None
        return next((s for s in self.steps if s.id == self.tails[0]), None)

    def previous_data(self) -> str | None:
        """A template expression for what the previous step produced."""
        if self.loop_item is not None:
            return "item"
        prev = self.previous()
        return prev.output if prev else None

    def add_input(self, name: str, schema: dict, *, required: bool = True) -> str:
        name = _snake(name, 30) or "value"
        self.inputs.setdefault(name, schema)
        if required and name not in self.required and "default" not in schema:
            self.required.append(name)
        return f"input.{name}"

    def has_agent(self) -> bool:
        return any(s.type == "agent_task" for s in self.steps)

    # --- step kinds ---

    def http(self, url: str, method: str, clause: str, body: Any = None, verb: str | None = None) -> Draft:
        config: dict[str, Any] = {"method": method, "url": url}
        if method in ("POST", "PUT", "PATCH"):
            if body is None:
                data = self.previous_data()
                body = {"data": "{{ " + data + " }}"} if data else {"source": "orchestrator"}
            if "hooks.slack.com" in url and isinstance(body, dict) and "text" not in body:
                data = self.previous_data()
                body = {"text": "{{ " + data + " }}" if data else clause}
            config["json"] = body
            name = f"{method} to {_host_path(url)}"
            hint = f"{'send' if method == 'POST' else method.lower()}_to_{_url_noun(url)}"
        else:
            label = _FETCH_LABELS.get(verb or "", "Fetch") if method == "GET" else method
            name = f"{label} {_host_path(url)}"
            hint = f"{_snake(label)}_{_url_noun(url)}"
        retry = {"max_attempts": 3, "backoff": "exponential", "initial_interval_seconds": 1}
        return self.add(Draft("http_request", name, config, hint, extra={"retry": retry}, output_key="body"))

    def slack(self, channel: str | None, text: str) -> Draft:
        if not channel:
            channel = "#general"
            self.notes.append("No Slack channel was named; the message goes to #general.")
            self.guesses += 1
        return self.add(
            Draft(
                "integration",
                f"Post to {channel}",
                {"action": "slack.post_message", "params": {"channel": channel, "text": text}},
                f"post_to_{channel.lstrip('#')}",
            )
        )

    def email(self, recipients: list[str], subject: str, body: str, clause_words: list[str]) -> Draft:
        if recipients:
            to = ", ".join(recipients)
            who = recipients[0] if len(recipients) == 1 else f"{len(recipients)} recipients"
        elif self.loop_item is not None and "email" in self.loop_item:
            to, who = "{{ item }}", "each address"
        elif self.loop_item is not None:
            to, who = "{{ item.email }}", "each one"
            self.notes.append("Each email goes to the item's 'email' field.")
            self.guesses += 1
        else:
            audience = _audience(clause_words)
            to = "{{ " + self.add_input(
                "recipients",
                {"type": "string", "description": f"Email address(es) of {audience}, comma-separated."},
            ) + " }}"  # fmt: skip
            who = audience
            self.notes.append(f"No address was given for {audience}: the run input 'recipients' holds it.")
            self.guesses += 1
        return self.add(
            Draft(
                "integration",
                f"Email {who}",
                {"action": "email.send", "params": {"to": to, "subject": subject, "body": body}},
                "send_email",
            )
        )

    def agent(self, goal: str, verb: str, data: str | None = None) -> Draft:
        data = data or self.previous_data()
        config: dict[str, Any] = {"goal": goal}
        if data:
            config["input"] = "{{ " + data + " }}"
        hint = {"generate": "generate_report", "write": "write_text", "draft": "draft_text"}.get(verb, verb)
        return self.add(Draft("agent_task", _title(goal, 60), config, hint, output_key="text"))

    def transform(self, verb: str, words: list[str], clause: str) -> Draft:
        data = self.previous_data()
        target = _object_phrase(words)
        expression = _jmespath_for(verb, target)
        config: dict[str, Any] = {"expression": expression}
        if data:
            config["data"] = "{{ " + data + " }}"
        if expression != "@":
            self.notes.append(f"'{clause}' reads the data with the JMESPath {expression!r}; check it.")
            self.guesses += 1
        return self.add(Draft("transform", _title(clause, 60), config, f"{verb}_{target}"))

    def tool_step(self, tool: str, clause: str, words: list[str]) -> Draft:
        provider, _, action = tool.partition(".")
        obj = _object_phrase(words)
        if action.split("_")[0] in WRITE_ACTIONS:
            params: dict[str, Any] = {"summary": obj or clause}
            data = self.previous_data()
            if data:
                params["details"] = "{{ " + data + " }}"
        else:
            params = {"query": obj or clause}
        self.notes.append(f"Check the parameters of {tool}; they were guessed from the sentence.")
        self.guesses += 1
        name = f"{action.replace('_', ' ').capitalize()} in {provider.replace('_', ' ').title()}"
        return self.add(Draft("integration", name, {"action": tool, "params": params}, f"{action}_{provider}"))

    def wait_seconds(self, seconds: int, text: str) -> Draft:
        return self.add(Draft("wait", f"Wait {text}", {"seconds": seconds}, f"wait_{_snake(text)}"))

    def wait_signal(self, signal: str) -> Draft:
        return self.add(Draft("wait", f"Wait for {signal.replace('_', ' ')}", {"signal": signal}, f"wait_for_{signal}"))


def _lower_first(text: str) -> str:
    """ "Post to #x" → "post to #x", but "POST to …" and "Salesforce" keep their case."""
    if len(text) > 1 and text[1].isupper():
        return text
    if text.split(" ", 1)[0].rstrip(":") in ("Salesforce", "Hubspot", "Jira", "Github", "Slack"):
        return text
    return text[:1].lower() + text[1:]


def _title(text: str, limit: int) -> str:
    text = text.strip(" ,.")
    text = text[0].upper() + text[1:] if text else text
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _audience(words: list[str]) -> str:
    joined = " ".join(words)
    match = re.search(r"\bto\s+((?:the\s+)?[a-z][a-z -]{1,40}?)(?:\s+(?:every|each|at|on|if|by)\b|$)", joined)
    if match and not match.group(1).startswith(("it", "them")):
        return match.group(1).strip()
    return "the recipients"


def _jmespath_for(verb: str, target: str) -> str:
    words = [w for w in re.findall(r"[a-z][a-z0-9_]*", target) if w not in STOPWORDS]
    if verb == "count":
        return "length(@)"
    if verb in ("filter", "keep", "select") and words:
        field_name = words[0] if words[0] not in ("ones", "items", "records", "rows") else "active"
        return f"[?{_identifier(field_name)}]"
    if verb == "sort" and words:
        by = words[-1]
        return f"sort_by(@, &{_identifier(by)})"
    if verb in ("extract", "pick", "map") and words:
        return _identifier("_".join(words[-2:]) if len(words) > 1 else words[0])
    return "@"


def _identifier(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else json.dumps(name)


def _duration(words: list[str]) -> tuple[int, str] | None:
    joined = " ".join(words)
    match = re.search(
        r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")\s+(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)\b", joined
    )
    if not match:
        return None
    n = int(match.group(1)) if match.group(1).isdigit() else NUMBER_WORDS[match.group(1)]
    unit = match.group(2).rstrip("s")
    return n * DURATION_UNITS[unit], f"{n} {match.group(2)}"


def _markers(text: str, kind: str) -> list[int]:
    return [int(m.group(2)) for m in ENTITY_RE.finditer(text) if m.group(1) == kind]


# --- clauses → steps ----------------------------------------------------------------------------


def _leading_verb(words: list[str]) -> tuple[str | None, int]:
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
        if word in _VERB_WORDS:
            return word, index
        if word.endswith("s") and word[:-1] in _VERB_WORDS:  # "… that scrapes a URL"
            return word[:-1], index
        if word.endswith("es") and word[:-2] in _VERB_WORDS:  # "pushes", "fetches"
            return word[:-2], index
        return None, index
    return None, -1


def _match_tool(tools: list[str], words: list[str], verb: str | None) -> str | None:
    """The tool of ``availableTools`` the clause means: its provider named, or its domain spoken of."""
    best, best_score = None, 0.0
    bag = set(words)
    for tool in tools:
        provider, _, action = tool.lower().partition(".")
        if provider in ("email", "slack", "smtp", "http"):
            continue
        score = 0.0
        if provider in bag or provider.replace("_", " ") in " ".join(words):
            score += 2
        domain = PROVIDER_DOMAINS.get(provider, set())
        score += min(2, len(bag & domain)) * 0.75
        action_words = set(action.split("_"))
        if bag & action_words:
            score += 0.5
        if verb in FETCH_VERBS and action_words & READ_ACTIONS:
            score += 0.5
        if verb in CREATE_VERBS and action_words & WRITE_ACTIONS:
            score += 0.75
        if verb in CREATE_VERBS and action_words & READ_ACTIONS:
            score -= 1
        if score > best_score:
            best, best_score = tool, score
    return best if best_score >= 1.25 else None


class _Reader:
    """Reads clauses into steps on a builder."""

    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        self.e = builder.entities

    # one clause --------------------------------------------------------------------------

    def clause(self, clause: str) -> bool:
        """Steps for one clause; False when nothing in it was understood."""
        b = self.b
        words = _words(clause)
        verb, at = _leading_verb(words)
        urls = [self.e.urls[i] for i in _markers(clause, "url")]
        emails = [self.e.emails[i] for i in _markers(clause, "email")]
        channels = [self.e.channels[i] for i in _markers(clause, "channel")]
        tools = [self.e.tools[i] for i in _markers(clause, "tool")]
        quotes = [self.e.quotes[i] for i in _markers(clause, "quote")]
        jsons = [self.e.jsons[i] for i in _markers(clause, "json")]
        lowered = " ".join(words)
        rest = words[at:] if at >= 0 else words
        text = _clean(clause, self.e)

        if verb is None and at >= 0 and words[at] in ("ask", "get", "request", "require", "seek", "obtain"):
            if any(w in lowered for w in APPROVAL_WORDS):
                if channels:
                    b.slack(
                        channels[0],
                        "Approval needed: {{ run.workflow_id }} is waiting. Resume run {{ run.id }} with "
                        '{"signal": {"approved": true}} to continue.',
                    )
                b.wait_signal("approval")
                return True
        if verb is None and tools:  # "pay the invoice with stripe.create_payment": the tool is the action
            for tool in tools:
                b.tool_step(tool, text, rest)
            return True
        if verb in WAIT_VERBS or (verb is None and "approval" in lowered and "wait" in lowered):
            return self._wait(words, lowered)
        if verb in ("ask", "request") and "approval" in lowered:
            b.wait_signal("approval")
            return True
        if verb is None:
            return False

        each = re.search(r"\beach\s+(?:one|of\s+them|item|entry|record|row|result)\b|\bone\s+by\s+one\b", lowered)
        if each and b.loop_item is None and b.previous_data() and verb in SEND_VERBS | CREATE_VERBS | AGENT_VERBS:
            body = re.sub(r"\s*\beach\s+(?:one|of\s+them|item|entry|record|row|result)\b|\s*\bone\s+by\s+one\b",
                          " it", clause, flags=re.I)  # fmt: skip
            _read_loop(self, "item", body)
            return True
        source_urls, target_urls = self._split_urls(clause, urls, verb)
        for tool in tools:  # "… with salesforce.query": the tool reads first
            if verb not in SEND_VERBS or not (channels or emails or target_urls):
                b.tool_step(tool, text, rest)
        if tools and verb in FETCH_VERBS | CREATE_VERBS and not source_urls:
            return True

        if verb in AGENT_VERBS and not (verb in ("write", "draft") and target_urls and not channels):
            for url in source_urls:
                b.http(url, "GET", text)
            data = None
            if not source_urls and not tools and not b.previous_data():
                data = self._input_subject(rest, "text to work on")
            b.agent(_goal(text, verb), verb, data)
            self._deliver(verb, rest, channels, emails, target_urls, quotes, jsons, text, made_content=True)
            return True

        if verb in TRANSFORM_VERBS:
            for url in source_urls:
                b.http(url, "GET", text)
            b.transform(verb, rest, text)
            self._deliver(verb, rest, channels, emails, target_urls, quotes, jsons, text)
            return True

        if verb in FETCH_VERBS or (verb in CREATE_VERBS and not (channels or emails)):
            method = _method(lowered, "GET")
            for url in source_urls:
                b.http(url, method if not target_urls else "GET", text, body=jsons[0] if jsons else None, verb=verb)
            if not source_urls and not target_urls:
                tool = _match_tool(b.tools, rest, verb)
                if tool:
                    b.tool_step(tool, text, rest)
                elif verb in FETCH_VERBS and b.loop_item is not None and re.search(r"\b(it|them)\b", lowered):
                    b.http("{{ item }}", method, text)
                elif verb in FETCH_VERBS and _object_phrase(rest):
                    obj = _object_phrase(rest)
                    name = obj if re.search(r"\b(?:url|link|address|endpoint)$", obj) else f"{obj}_url"
                    ref = b.add_input(name, {"type": "string", "description": f"Where {obj} comes from."})
                    b.notes.append(f"No address was given for {obj}: the run input '{ref[6:]}' holds it.")
                    b.guesses += 1
                    b.http("{{ " + ref + " }}", method, text)
                else:
                    return False
            if target_urls or channels or emails:
                self._deliver("send", rest, channels, emails, target_urls, quotes, jsons, text)
            return True

        if verb in SEND_VERBS or verb in CREATE_VERBS:
            for url in source_urls:
                b.http(url, "GET", text)
            if not (channels or emails or target_urls):
                tool = _match_tool(b.tools, rest, verb)
                if tool:
                    b.tool_step(tool, text, rest)
                    return True
            return self._deliver(verb, rest, channels, emails, target_urls, quotes, jsons, text, explicit=True)
        return False

    def _split_urls(self, clause: str, urls: list[str], verb: str) -> tuple[list[str], list[str]]:
        """URLs the clause reads from, and those it sends to ("to URL", or any URL of a send verb)."""
        sources, targets = [], []
        for index in _markers(clause, "url"):
            url = self.e.urls[index]
            before = clause[: clause.find(f"⟪url{index}⟫")].lower().rstrip()
            if re.search(r"\b(?:to|into|onto)$", before) and not re.search(r"\b(?:from|of)\b[^⟪]*$", before[-12:]):
                targets.append(url)
            elif verb in SEND_VERBS and not re.search(r"\b(?:from|of|at|in)$", before):
                targets.append(url)
            else:
                sources.append(url)
        return sources, targets

    def _input_subject(self, words: list[str], what: str) -> str:
        """What an agent works on when nothing before it produced anything: a run input."""
        obj = _object_phrase(words) or what
        obj = re.sub(r"^(?:incoming|given|provided|following)\s+", "", obj)
        ref = self.b.add_input(_snake(obj, 30), {"type": "string", "description": f"The {obj}."})
        self.b.notes.append(f"The {obj} comes from the run input '{ref[6:]}'.")
        self.b.guesses += 1
        return ref

    def _message(self, words: list[str], quotes: list[str], jsons: list[Any], clause: str) -> str:
        """The text a send carries: a quote, "saying …"/"that …", the previous output, or the object."""
        if quotes:
            return quotes[0]
        joined = " ".join(words)
        match = re.search(r"\b(?:saying|that says|that|with the message|with text)\s+(.+)$", clause, re.IGNORECASE)
        if match and not re.match(r"(?:it|they|them)\b", match.group(1), re.IGNORECASE):
            said = ENTITY_RE.sub("", match.group(1)).strip(" ,.")
            if said:
                return said[0].upper() + said[1:]
        data = self.b.previous_data()
        obj = _object_phrase(words)
        if re.search(r"\b(?:it|them|the result|the results|the summary|the report|the list|the digest)\b", joined):
            if data:
                return "{{ " + data + " }}"
        if self.b.loop_item is not None and obj.startswith("each "):
            return "{{ item." + _snake(obj[5:], 30) + " }}"
        if data:
            return "{{ " + data + " }}"
        if re.match(r"(?:the|my|our)\s", " ".join(words[1:])) and obj:
            ref = self.b.add_input(obj, {"type": "string", "description": f"The {obj}."})
            self.b.notes.append(f"The {obj} comes from the run input '{ref[6:]}'.")
            self.b.guesses += 1
            return "{{ " + ref + " }}"
        m = re.match(r"(?:remind|tell|ask)\s+(?:⟪\w+⟫\s+)?(?:to\s+)?(.+)$", joined)
        if m:
            return "Reminder: " + ENTITY_RE.sub("", m.group(1)).strip()
        if obj and obj not in ("message", "notification", "alert", "update", "email"):
            return obj[0].upper() + obj[1:]
        return _title(ENTITY_RE.sub("", clause).strip(), 200)

    def _deliver(
        self,
        verb: str,
        words: list[str],
        channels: list[str],
        emails: list[str],
        target_urls: list[str],
        quotes: list[str],
        jsons: list[Any],
        clause: str,
        *,
        explicit: bool = False,
        made_content: bool = False,
    ) -> bool:
        """The destination part of a clause: URL (POST), channel (Slack), address (email)."""
        b = self.b
        joined = " ".join(words)
        content_noun = next((n for n in CONTENT_NOUNS if re.search(rf"\b{n}\b", joined)), None)
        wants_email = (
            verb in ("email", "mail")
            or bool(emails)
            or re.search(r"\b(?:e-?mails?|mail|newsletters?|invitations?|invites?|receipts?)\b", joined)
            or (b.loop_item is not None and "email" in b.loop_item)
        )
        wants_slack = bool(channels) or "slack" in joined
        if not (target_urls or wants_email or wants_slack):
            if not explicit:
                return True
            if verb in ("notify", "alert", "remind", "announce", "tell", "message", "page", "escalate", "post"):
                wants_slack = True
            else:
                return False
        definite = content_noun and re.search(
            rf"\b(?:the|our|my|this|that|their)\s+(?:\w+\s+)?{content_noun}\b", joined
        )
        if content_noun and not made_content and not b.has_agent() and not definite:
            article = re.search(rf"\b(a|an|the|our|my|this)?\s*(\w+\s+)?{content_noun}\b", joined)
            subject = (article.group(2) or "").strip() if article else ""
            goal = f"{CONTENT_NOUNS[content_noun]} " + (
                f"the {subject} data" if subject and subject not in STOPWORDS else "the data"
            )
            if not b.previous_data():
                goal = f"Write a {(subject + ' ') if subject else ''}{content_noun}"
            b.agent(goal, "generate")
        message = self._message(words, quotes, jsons, clause)
        for url in target_urls:
            method = _method(joined, "POST")
            body = jsons[0] if jsons else None
            b.http(url, method if method != "GET" else "POST", clause, body=body)
        if wants_slack:
            b.slack(channels[0] if channels else None, message)
        if wants_email:
            subject = _subject(b, joined)
            b.email(emails, subject, message, words)
        return True

    def _wait(self, words: list[str], lowered: str) -> bool:
        b = self.b
        duration = _duration(words)
        if duration and not re.search(r"\bfor\s+(?:the\s+|their\s+|an?\s+)?(?!\d)[a-z]", lowered.split("wait", 1)[-1]):
            b.wait_seconds(*duration)
            return True
        match = re.search(r"\b(?:for|until)\s+(?:the\s+|their\s+|his\s+|her\s+|an?\s+|our\s+)?([a-z][a-z-]*)", lowered)
        if match:
            signal = match.group(1)
            signal = "approval" if signal in ("approve", "approved", "sign-off", "signoff", "ok") else signal
            b.wait_signal(_snake(signal, 30))
            return True
        if duration:
            b.wait_seconds(*duration)
            return True
        return False


def _method(text: str, default: str) -> str:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        if re.search(
            rf"\b(?:with|using|as|a|an|via)\s+{method.lower()}\b|\b{method.lower()}\s+(?:request|it|them|to)\b", text
        ):
            return method
    if re.match(r"(?:then\s+)?(?:put|patch|delete)\b", text):
        return text.split()[0].upper()
    return default


def _goal(text: str, verb: str) -> str:
    goal = ENTITY_RE.sub("", text)
    first = goal.split(" ", 1)
    if first and first[0].lower() not in _VERB_WORDS and first[0].lower().rstrip("s") in _VERB_WORDS | {verb}:
        goal = verb + (" " + first[1] if len(first) > 1 else "")  # "summarizes the content" → "summarize …"
    goal = re.sub(r"\b(?:from|at|of|in|to)\s*(?=[,.]|$)", "", goal).strip(" ,")
    goal = re.sub(r"\s+", " ", goal)
    return goal[0].upper() + goal[1:] if goal else verb.capitalize()


def _subject(builder: _Builder, joined: str) -> str:
    agent = next((s for s in reversed(builder.steps) if s.type == "agent_task"), None)
    if agent:
        return _title(agent.name, 80)
    match = re.search(r"\bthat\s+(.+)$", joined)
    if match:
        said = ENTITY_RE.sub("", match.group(1)).strip()
        return _title(said, 80)
    obj = _object_phrase(joined.split())
    return _title(obj, 80) if obj and obj not in ("email", "mail", "message") else "Message from your workflow"


# --- structure: conditions, loops ------------------------------------------------------------------

_TEST_END = re.compile(
    r"(?:\d+%?|\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|down|up|ok|fails?|failed|succeeds?|succeeded|errors?|empty|true|false|yes|no|healthy|"
    r"unhealthy|missing|late|slow|high|low|positive|negative|urgent|critical|approved|rejected|x))$",
    re.IGNORECASE,
)
_COND_PREFIX = re.compile(r"^(?:and\s+|then\s+|but\s+)?(if|unless|when|whenever|only\s+if|in\s+case)\s+", re.I)
_COND_POSTFIX = re.compile(r"\s+(if|unless|only\s+if|in\s+case|whenever)\s+(.+)$", re.I)
_ELSE = re.compile(r"^(?:otherwise|else|if\s+not|or\s+else)\b[\s,]*", re.I)
_LOOP_PREFIX = re.compile(
    r"^(?:and\s+|then\s+)?(?:for\s+(?:each|every|all)|loop\s+(?:over|through)|iterate\s+(?:over|through)|"
    r"go\s+through(?:\s+each(?:\s+of)?)?)\s+(.+)$",
    re.I,
)
_LOOP_POSTFIX = re.compile(r"^(.+?)\s+for\s+(?:each|every)\s+(.+)$", re.I)
_AT_MOST = re.compile(r"\s*,?\s*(?:with\s+)?(?:at\s+most|up\s+to|no\s+more\s+than|max(?:imum)?\s+of)\s+(\d+)"
                      r"(?:\s+(?:at\s+a\s+time|at\s+once|in\s+parallel|concurrently|in\s+flight))?", re.I)  # fmt: skip


def _condition_config(reader: _Reader, text: str, negate: bool) -> dict:
    """A condition from words: status checks on the previous step, comparisons, or the run input."""
    b = reader.b
    lowered = ENTITY_RE.sub("", text).lower().strip(" ,")
    prev = b.previous()
    failure = re.search(
        r"\b(?:down|fails?|failed|failing|errors?|broken|unreachable|unavailable|not\s+(?:ok|up|healthy|200)|"
        r"returns?\s+an?\s+error|times?\s+out|timed\s+out|does\s*n[o']t\s+answer)\b",
        lowered,
    )
    success = re.search(r"\b(?:succeeds?|succeeded|ok|up|healthy|works|passes|passed|is\s+fine)\b", lowered)
    if prev and prev.type in ("http_request", "integration", "agent_task", "webhook") and (failure or success):
        # "if it is down": the test is on the previous step's own outcome, which must not fail the run.
        prev.extra["continue_on_error"] = True
        is_bad = bool(failure) and not (success and success.start() < failure.start())
        op = "!=" if is_bad != negate else "=="
        return {"expression": f"steps.{prev.id}.status {op} 'completed'"}
    comparison = re.search(
        r"^(?:the\s+)?(?P<subject>.+?)\s+(?:is|are|was|goes|gets|has|exceeds|drops)?\s*"
        r"(?P<op>over|above|more\s+than|greater\s+than|higher\s+than|at\s+least|exceeds|below|under|less\s+than|"
        r"lower\s+than|fewer\s+than|at\s+most|equals|equal\s+to|is\s+not|isn't|contains|is)\s+"
        r"(?P<value>[\w.@%$-]+(?:\s+[\w%]+)?)",
        lowered,
    )
    field_path, operator, value = None, "equals", None
    if comparison:
        subject = comparison.group("subject")
        op = re.sub(r"\s+", " ", comparison.group("op"))
        operator = {
            "over": "gt", "above": "gt", "more than": "gt", "greater than": "gt", "higher than": "gt",
            "exceeds": "gt", "at least": "gte", "below": "lt", "under": "lt", "less than": "lt", "lower than": "lt",
            "fewer than": "lt", "at most": "lte", "equals": "equals", "equal to": "equals", "is": "equals",
            "is not": "not_equals", "isn't": "not_equals", "contains": "contains",
        }[op]  # fmt: skip
        raw = comparison.group("value").split()[0].rstrip("%").lstrip("$")
        value = _number_or_text(raw)
        field_path = _field_for(b, subject)
    elif failure or success:
        subject = re.split(r"\s+(?:is|are|was|fails?|failed|succeeds?|succeeded|errors?)\b", lowered)[0]
        subject = re.sub(r"^(?:a|an|the|any)\s+", "", subject).strip() or "result"
        field_path = _field_for(b, f"{subject} status")
        operator, value = "equals", "failed" if failure else "success"
    else:
        words = [w for w in re.findall(r"[a-z]+", lowered) if w not in STOPWORDS]
        field_path = _field_for(b, " ".join(words[:2]) or "value")
        operator, value = "exists", None
    if negate:
        operator = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt", "equals": "not_equals",
                    "not_equals": "equals"}.get(operator, operator)  # fmt: skip
        if operator in ("contains", "exists"):
            b.notes.append("'unless' with this test is read as 'if not'; check the condition.")
    b.notes.append(f"The condition reads {field_path}; check that field.")
    b.guesses += 1
    config: dict[str, Any] = {"field": field_path, "operator": operator}
    if operator != "exists":
        config["value"] = value
    return config


def _number_or_text(raw: str) -> Any:
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return {"true": True, "false": False}.get(raw, raw)


def _field_for(b: _Builder, subject: str) -> str:
    subject = re.sub(r"^(?:the|a|an|its|their)\s+", "", subject.strip())
    if subject.startswith(("input ", "run input ")):
        name = _snake(subject.split(" ", 1)[1].replace("input ", ""), 30)
        b.add_input(name, {"type": ["number", "string"], "description": f"The {name.replace('_', ' ')}."})
        return f"input.{name}"
    prev = b.previous()
    words = [w for w in re.findall(r"[a-z]+", subject) if w not in STOPWORDS]
    name = "_".join(words[-2:]) if words else "value"
    if prev is None:
        if len(words) >= 2 and words[-1] == "status":
            return f"$.{'_'.join(words[:-1])}.status"
        return f"$.{name}"
    base = prev.output or f"steps.{prev.id}.output"
    return f"{base}.{name}"


def _read_sentence(reader: _Reader, sentence: str) -> None:
    """One sentence: a chain of clauses, with conditions and loops."""
    b = reader.b
    clauses = _clauses(sentence)
    index = 0
    while index < len(clauses):
        clause = clauses[index]
        index += 1
        loop = _LOOP_PREFIX.match(clause)
        if loop:
            body_parts = [loop.group(1)]
            # "for each customer in X, send …": the body is the next clause (or after the comma).
            head, _, tail = loop.group(1).partition(",")
            if tail.strip():
                body_parts = [head, tail.strip()]
            elif index < len(clauses):
                body_parts = [head, clauses[index]]
                index += 1
            _read_loop(reader, body_parts[0], body_parts[1] if len(body_parts) > 1 else "")
            continue
        postfix_loop = _LOOP_POSTFIX.match(clause)
        if postfix_loop and not _COND_PREFIX.match(clause):
            _read_loop(reader, postfix_loop.group(2), postfix_loop.group(1))
            continue
        cond = _COND_PREFIX.match(clause)
        if cond:
            index = _read_condition(reader, clauses, index, clause[cond.end() :], cond.group(1).lower())
            continue
        post = _COND_POSTFIX.search(clause)
        if post and not _ELSE.match(clause):
            action, keyword, test = clause[: post.start()], post.group(1).lower(), post.group(2)
            _branch(reader, test, keyword, [action], [])
            continue
        if _ELSE.match(clause):
            b.ignored.append(clause)
            continue
        if reader.clause(clause):
            b.understood += 1
        elif _is_noise(clause):
            continue
        else:
            b.ignored.append(_clean(clause, reader.e))


def _is_noise(clause: str) -> bool:
    words = [w for w in _words(clause) if w not in FILLERS and w not in STOPWORDS]
    return not words or all(w in {"run", "do", "this", "workflow", "job", "task", "automatically"} for w in words)


def _read_condition(reader: _Reader, clauses: list[str], index: int, head: str, keyword: str) -> int:
    """ "if TEST, A, B, otherwise C": returns the index after the branches (to the sentence end)."""
    test, then_first = head, None
    # "if the backlog is over 100 post to #alerts": the test ends where an action starts, right after
    # a value or an outcome ("… over 100", "… is down"); "the backup at X succeeded" has no action in it.
    for split in re.finditer(r"\s+(?:then\s+)?(?=" + _CLAUSE_START + r")", head):
        before = ENTITY_RE.sub(" x ", head[: split.start()]).strip()
        if split.start() > 0 and _TEST_END.search(before):
            test, then_first = head[: split.start()], head[split.end() :]
            break
    then_items = [then_first] if then_first else []
    else_items: list[str] = []
    target = then_items
    while index < len(clauses):
        clause = clauses[index]
        other = _ELSE.match(clause)
        if other:
            target = else_items
            clause = clause[other.end() :]
            if not clause.strip():
                index += 1
                continue
        target.append(clause)
        index += 1
    _branch(reader, test, keyword, then_items, else_items)
    return index


def _branch(reader: _Reader, test: str, keyword: str, then_items: list[str], else_items: list[str]) -> None:
    b = reader.b
    negate = keyword == "unless"
    # A source named in the test ("the order total from URL") is fetched before the condition.
    for index in _markers(test, "url"):
        b.http(reader.e.urls[index], "GET", _clean(test, reader.e))
    config = _condition_config(reader, _clean(test, reader.e), negate)
    cond = b.add(Draft("condition", _title(f"{keyword} {_clean(test, reader.e)}", 60), config, "check_condition"))
    cond.output = f"steps.{cond.id}.output"
    ends: list[str] = []
    config["then"], config["else"] = [], []
    for branch_name, items in (("then", then_items), ("else", else_items)):
        items = [i for i in items if not re.fullmatch(r"\s*(?:do\s+nothing|nothing|skip(?:\s+it)?|stop)\s*", i, re.I)]
        if not items:
            continue
        b.tails = [cond.id]
        before = len(b.steps)
        for item in items:
            if reader.clause(item):
                b.understood += 1
            elif not _is_noise(item):
                b.ignored.append(_clean(item, reader.e))
        created = [s for s in b.steps[before:] if cond.id in s.depends_on]
        config[branch_name] = [s.id for s in created]
        ends.extend(b.tails)
    if not config["then"]:
        config.pop("then")
    if not config["else"]:
        config.pop("else")
    b.tails = ends + ([cond.id] if len(ends) < 2 and (not then_items or not else_items) else [])
    b.tails = list(dict.fromkeys(b.tails))
    b.trigger_rule = "none_failed"
    b.understood += 1


def _read_loop(reader: _Reader, head: str, body: str) -> None:
    """ "for each X in SOURCE" + a body clause → [fetch SOURCE] + loop(body)."""
    b = reader.b
    concurrency = None
    for text in (head, body):
        cap = _AT_MOST.search(text)
        if cap:
            concurrency = int(cap.group(1))
    head = _AT_MOST.sub("", head)
    body = _AT_MOST.sub("", body)
    urls = _markers(head, "url")
    noun_match = re.match(r"\s*(?:of\s+)?(?:the\s+)?([a-z][\w -]*?)(?:\s+(?:in|from|of|at|on|returned\s+by)\b|$)",
                          ENTITY_RE.sub("", head).lower())  # fmt: skip
    noun = (noun_match.group(1).strip() if noun_match else "item") or "item"
    noun = re.sub(r"^(?:the|a|an)\s+", "", noun)
    for index in urls:
        b.http(reader.e.urls[index], "GET", _clean(head, reader.e))
    prev = b.previous()
    if urls and prev:
        items = "{{ " + (prev.output or f"steps.{prev.id}.output") + " }}"
    elif re.search(r"\b(?:input|given|provided)\b", head.lower()) or prev is None:
        plural = _plural(_snake(noun.split()[-1] if noun.split() else "item", 20))
        b.add_input(plural, {"type": "array", "description": f"The {plural.replace('_', ' ')} to go through."})
        items = "{{ input." + plural + " }}"
    else:
        items = "{{ " + (prev.output or f"steps.{prev.id}.output") + " }}"
    # The body is read into a scratch builder sharing entities; its one step becomes the inner step.
    inner = _Builder(b.entities, b.tools)
    inner.loop_item = noun
    inner.steps = []
    inner_reader = _Reader(inner)
    understood = inner_reader.clause(body) if body.strip() else False
    if not understood or not inner.steps:
        b.ignored.append(_clean(f"for each {head} {body}", reader.e))
        return
    main = inner.steps[-1]
    for other in inner.steps[:-1]:
        b.notes.append(f"The loop runs one step per item; '{other.name}' was left out of it.")
    b.notes.extend(inner.notes)
    b.guesses += inner.guesses
    b.inputs.update({k: v for k, v in inner.inputs.items() if k not in b.inputs})
    b.required.extend(r for r in inner.required if r not in b.required)
    config: dict[str, Any] = {"items": items, "step": {"type": main.type, "config": main.config}}
    if concurrency:
        config["max_concurrency"] = concurrency
    loop = b.add(Draft("loop", _title(f"For each {noun}: {main.name}", 60), config, f"for_each_{noun}"))
    if "retry" in main.extra:
        loop.extra["retry"] = main.extra["retry"]
    b.understood += 1


def _plural(word: str) -> str:
    if word.endswith("s"):
        return word
    if word.endswith("y") and not word.endswith(("ay", "ey", "oy", "uy")):
        return word[:-1] + "ies"
    return word + "s"


# --- names ----------------------------------------------------------------------------------------


def _cadence(schedule: Schedule | None) -> str:
    if schedule is None:
        return ""
    minute, hour, dom, month, dow = schedule.cron_expression.split()
    if minute.startswith("*") or hour.startswith("*") and "/" in hour:
        return "Recurring"
    if hour == "*":
        return "Hourly"
    if month != "*" and dom != "*":
        return "Yearly"
    if dom != "*":
        return "Monthly"
    if dow == "1-5":
        return "Weekday"
    if dow not in ("*",) and "," not in dow and "-" not in dow:
        return "Weekly"
    if dow != "*":
        return "Scheduled"
    return "Daily"


def _name(steps: list[Draft], schedule: Schedule | None) -> str:
    cadence = _cadence(schedule)
    agent = next((s for s in steps if s.type == "agent_task"), None)
    sources = [s for s in steps if s.type in ("http_request", "integration") and s.config.get("method", "GET") == "GET"]
    source = sources[0] if sources else None
    subject = ""
    if source is not None and source.type == "integration":
        query = str((source.config.get("params") or {}).get("query", ""))
        subject = " ".join(w for w in query.split() if w not in ("data", "the", "latest", "new", "of", *CONTENT_NOUNS))[
            :30
        ]
    elif source is not None and source.type == "http_request" and "{{" not in source.config["url"]:
        subject = _url_noun(source.config["url"]).replace("-", " ").replace("_", " ")
    product = ""
    if agent is not None:
        goal = agent.config["goal"].lower()
        product = next((n for n in ("digest", "report", "summary", "translation", "classification", "analysis")
                        if n in goal), "")  # fmt: skip
        if not product:
            product = {"translate": "translation", "classify": "classification", "analyze": "analysis",
                       "summarize": "summary", "triage": "triage"}.get(goal.split()[0], "")  # fmt: skip
    last = steps[-1]
    destination = ""
    if last.type == "integration" and last.config.get("action") == "email.send":
        destination = "by email"
    elif last.type == "integration" and last.config.get("action") == "slack.post_message":
        destination = f"to {last.config['params']['channel']}"
    elif last.type == "http_request" and last.config.get("method") != "GET" and last is not source:
        destination = f"to {urlsplit(last.config['url']).netloc or 'an API'}"
    if product:
        name = " ".join(p for p in (cadence, subject, product, destination) if p)
    else:
        name = steps[0].name
        if len(steps) > 1 and destination:
            name += f", {_lower_first(last.name)}"
        elif len(steps) > 2:
            name += f" and {len(steps) - 1} more steps"
        if schedule is not None:
            name = f"{schedule.description.rsplit(' (', 1)[0]}: {_lower_first(name)}"
    name = name[0].upper() + name[1:]
    return name if len(name) <= 120 else name[:119].rsplit(" ", 1)[0] + "…"


def _description(steps: list[Draft], schedule: Schedule | None) -> str:
    parts = []
    for step in steps:
        if step.type == "condition" or any(step.id in (s.config.get("then", []) + s.config.get("else", []))
                                           for s in steps if s.type == "condition"):  # fmt: skip
            continue
        parts.append(_lower_first(step.name))
    text = ", then ".join(parts[:6]) if parts else steps[0].name
    text = text[0].upper() + text[1:]
    if schedule is not None:
        text = f"{schedule.description.rsplit(' (', 1)[0]}: {_lower_first(text)}"
    return (text + ".")[:500]


# --- entry point ----------------------------------------------------------------------------------


# "Create a workflow that scrapes a URL …", "I want an automation to …": the request, not a step.
_LEAD_IN = re.compile(
    r"^\s*(?:please\s+)?(?:(?:i|we)\s+(?:want|need|would\s+like)\s+(?:to\s+(?:have|build|create|make)\s+)?|"
    r"(?:can\s+you\s+)?(?:create|build|make|set\s+up|give\s+me|write|generate)\s+)"
    r"(?:a|an|the|one|me\s+a)?\s*(?:new\s+)?(?:simple\s+)?(?:workflow|automation|flow|pipeline|job|bot|zap)\s*"
    r"(?:that|which|to|for|in\s+which|where)?\s+",
    re.IGNORECASE,
)


def _strip_spans(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        out.append(text[last:start])
        out.append(" ")
        last = max(last, end)
    out.append(text[last:])
    stripped = "".join(out)
    stripped = re.sub(r"\s+([,.;:])", r"\1", stripped)
    stripped = re.sub(r"^[\s,.;:]+|(?<=[,.;:])[\s,.;:]+(?=[,.;:])", "", stripped)
    return re.sub(r"\s+", " ", stripped).strip()


def parse_rules(instruction: str, *, tools: list[str] | None = None) -> Parsed:
    """The workflow an instruction describes, by rules; raises NotUnderstood when it names nothing."""
    tools = [str(t) for t in (tools or []) if isinstance(t, str) and t.strip()]
    schedule = schedule_from_text(instruction)
    text = _strip_spans(instruction, schedule.spans) if schedule else instruction
    text = re.sub(r"^(?:please\s+)?(?:run|do this|start)\s*[,:]\s*", "", text.strip(), flags=re.I)
    text = _LEAD_IN.sub("", text)
    protected, entities = _protect(text, tools)
    builder = _Builder(entities, tools)
    reader = _Reader(builder)
    for sentence in _sentences(protected):
        _read_sentence(reader, sentence)
    if not builder.steps:
        raise NotUnderstood(
            "Could not find anything to do in the instruction: name an action (fetch a URL, summarize, email someone, "
            "post to #channel, wait 2 hours, …).",
            details={
                "instruction": instruction[:500],
                "hint": "e.g. 'Every Monday at 9am fetch https://… and post a summary to #team'",
            },  # fmt: skip
        )
    steps = _finish(builder)
    notes = list(dict.fromkeys([*(schedule.notes if schedule else []), *builder.notes]))
    if builder.ignored:
        notes.append("Not understood, left out: " + "; ".join(f"'{c}'" for c in builder.ignored))
    total = builder.understood + len(builder.ignored)
    coverage = builder.understood / total if total else 0.0
    confidence = 0.45 + 0.5 * coverage - 0.04 * builder.guesses - (0.05 if schedule and schedule.notes else 0.0)
    confidence = round(min(0.95, max(0.05, confidence)), 2)
    inputs: dict[str, Any] = {"type": "object", "properties": builder.inputs}
    if builder.required:
        inputs["required"] = builder.required
    return Parsed(
        name=_name(builder.steps, schedule),
        description=_description(builder.steps, schedule),
        steps=steps,
        inputs=inputs,
        schedule=schedule,
        confidence=confidence,
        notes=notes,
        trigger_type="schedule" if schedule else "manual",
    )


def _finish(builder: _Builder) -> list[dict]:
    steps = []
    for draft in builder.steps:
        step: dict[str, Any] = {"id": draft.id, "type": draft.type, "name": draft.name, "config": draft.config}
        step["depends_on"] = list(draft.depends_on)
        for key in ("trigger_rule", "continue_on_error", "retry"):
            if key in draft.extra:
                step[key] = draft.extra[key]
        steps.append(step)
    return steps
