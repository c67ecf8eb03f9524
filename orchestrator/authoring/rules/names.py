"""Names and descriptions a person would write, from the steps and the schedule."""

from __future__ import annotations

from urllib.parse import urlsplit

from orchestrator.authoring.rules.builder import Draft
from orchestrator.authoring.rules.text import lower_first, url_noun
from orchestrator.authoring.rules.vocabulary import CONTENT_NOUNS
from orchestrator.authoring.schedule_text import Schedule

# --- names ----------------------------------------------------------------------------------------


def cadence_of(schedule: Schedule | None) -> str:
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


def workflow_name(steps: list[Draft], schedule: Schedule | None) -> str:
    cadence = cadence_of(schedule)
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
        subject = url_noun(source.config["url"]).replace("-", " ").replace("_", " ")
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
            name += f", {lower_first(last.name)}"
        elif len(steps) > 2:
            name += f" and {len(steps) - 1} more steps"
        if schedule is not None:
            name = f"{schedule.description.rsplit(' (', 1)[0]}: {lower_first(name)}"
    name = name[0].upper() + name[1:]
    return name if len(name) <= 120 else name[:119].rsplit(" ", 1)[0] + "…"


def workflow_description(steps: list[Draft], schedule: Schedule | None) -> str:
    parts = []
    for step in steps:
        if step.type == "condition" or any(step.id in (s.config.get("then", []) + s.config.get("else", []))
                                           for s in steps if s.type == "condition"):  # fmt: skip
            continue
        parts.append(lower_first(step.name))
    text = ", then ".join(parts[:6]) if parts else steps[0].name
    text = text[0].upper() + text[1:]
    if schedule is not None:
        text = f"{schedule.description.rsplit(' (', 1)[0]}: {lower_first(text)}"
    return (text + ".")[:500]
