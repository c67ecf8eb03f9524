"""The rules parser: an English instruction → a workflow definition, offline and in milliseconds.

A package: ``vocabulary`` (the words it knows), ``text`` (entities, clauses, small helpers), ``builder``
(steps being built), ``reader`` (clauses, conditions, loops) and ``names``; this module puts them together.

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

import re
from typing import Any

from orchestrator.authoring.rules.builder import Builder, NotUnderstood, Parsed
from orchestrator.authoring.rules.names import workflow_description, workflow_name
from orchestrator.authoring.rules.reader import Reader, read_sentence
from orchestrator.authoring.rules.text import protect_entities, sentences
from orchestrator.authoring.rules.vocabulary import CHANNEL_RE, EMAIL_RE, URL_RE
from orchestrator.authoring.schedule_text import schedule_from_text

__all__ = ["CHANNEL_RE", "EMAIL_RE", "URL_RE", "NotUnderstood", "Parsed", "parse_rules"]

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
    protected, entities = protect_entities(text, tools)
    builder = Builder(entities, tools)
    reader = Reader(builder)
    for sentence in sentences(protected):
        read_sentence(reader, sentence)
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
        name=workflow_name(builder.steps, schedule),
        description=workflow_description(builder.steps, schedule),
        steps=steps,
        inputs=inputs,
        schedule=schedule,
        confidence=confidence,
        notes=notes,
        trigger_type="schedule" if schedule else "manual",
    )


def _finish(builder: Builder) -> list[dict]:
    steps = []
    for draft in builder.steps:
        step: dict[str, Any] = {"id": draft.id, "type": draft.type, "name": draft.name, "config": draft.config}
        step["depends_on"] = list(draft.depends_on)
        for key in ("trigger_rule", "continue_on_error", "retry"):
            if key in draft.extra:
                step[key] = draft.extra[key]
        steps.append(step)
    return steps
