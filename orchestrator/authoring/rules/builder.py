"""Steps being built (``Draft``), the parse result (``Parsed``), and ``Builder``: one method per kind of
step, each chained after the steps before it, each reading the previous output where it makes sense."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.authoring.rules.text import (
    Entities,
    audience_of,
    host_path,
    jmespath_for,
    object_phrase,
    snake,
    title,
    url_noun,
)
from orchestrator.authoring.rules.vocabulary import (
    CREATE_VERBS,
    FETCH_LABELS,
    FETCH_VERBS,
    PROVIDER_DOMAINS,
    READ_ACTIONS,
    WRITE_ACTIONS,
)
from orchestrator.authoring.schedule_text import Schedule
from orchestrator.errors import DomainError


class NotUnderstood(DomainError):
    """The instruction names nothing a workflow could do."""

    code = "instruction_not_understood"
    status = 422


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


class Builder:
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
        base = snake(hint) or "step"
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
        name = snake(name, 30) or "value"
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
            name = f"{method} to {host_path(url)}"
            hint = f"{'send' if method == 'POST' else method.lower()}_to_{url_noun(url)}"
        else:
            label = FETCH_LABELS.get(verb or "", "Fetch") if method == "GET" else method
            name = f"{label} {host_path(url)}"
            hint = f"{snake(label)}_{url_noun(url)}"
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
            audience = audience_of(clause_words)
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
        return self.add(Draft("agent_task", title(goal, 60), config, hint, output_key="text"))

    def transform(self, verb: str, words: list[str], clause: str) -> Draft:
        data = self.previous_data()
        target = object_phrase(words)
        expression = jmespath_for(verb, target)
        config: dict[str, Any] = {"expression": expression}
        if data:
            config["data"] = "{{ " + data + " }}"
        if expression != "@":
            self.notes.append(f"'{clause}' reads the data with the JMESPath {expression!r}; check it.")
            self.guesses += 1
        return self.add(Draft("transform", title(clause, 60), config, f"{verb}_{target}"))

    def tool_step(self, tool: str, clause: str, words: list[str]) -> Draft:
        provider, _, action = tool.partition(".")
        obj = object_phrase(words)
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
        return self.add(Draft("wait", f"Wait {text}", {"seconds": seconds}, f"wait_{snake(text)}"))

    def wait_signal(self, signal: str) -> Draft:
        return self.add(Draft("wait", f"Wait for {signal.replace('_', ' ')}", {"signal": signal}, f"wait_for_{signal}"))


# --- clauses → steps ----------------------------------------------------------------------------


def match_tool(tools: list[str], words: list[str], verb: str | None) -> str | None:
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
