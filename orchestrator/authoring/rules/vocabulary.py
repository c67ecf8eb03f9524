"""The words the rules parser knows: verbs by kind, nouns, provider domains, and the entity patterns."""

from __future__ import annotations

import re

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
FETCH_LABELS = {
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

VERB_WORDS = FETCH_VERBS | SEND_VERBS | AGENT_VERBS | TRANSFORM_VERBS | WAIT_VERBS | CREATE_VERBS
CLAUSE_START = (
    r"(?:if|unless|when|whenever|otherwise|else|for\s+(?:each|every)|loop|iterate|go\s+through|ask|get|"
    + ("|".join(sorted(VERB_WORDS, key=len, reverse=True)))
    + r")(?:e?s)?\b"
)

URL_RE = re.compile(r"https?://[^\s<>\"'`,;)\]]+", re.IGNORECASE)
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
CHANNEL_RE = re.compile(r"(?<![\w&])#([A-Za-z0-9][\w.-]*)")
JSON_RE = re.compile(r"\{[^{}]*\}")
QUOTE_RE = re.compile(r"\"([^\"]{1,300})\"|'([^']{1,300})'|“([^”]{1,300})”|‘([^’]{1,300})’")
TOOL_RE = re.compile(r"\b([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)\b")
ENTITY_RE = re.compile(r"⟪(url|email|channel|json|quote|tool)(\d+)⟫")
