"""Reading clauses into steps (``Reader``), and the structure around them: conditions (if/unless/when …
otherwise …) and loops (for each …)."""

from __future__ import annotations

import re
from typing import Any

from orchestrator.authoring.rules.builder import Builder, Draft, match_tool
from orchestrator.authoring.rules.text import (
    duration_of,
    leading_verb,
    markers,
    object_phrase,
    restore_entities,
    snake,
    split_clauses,
    title,
    tokens_of,
)
from orchestrator.authoring.rules.vocabulary import (
    AGENT_VERBS,
    APPROVAL_WORDS,
    CLAUSE_START,
    CONTENT_NOUNS,
    CREATE_VERBS,
    ENTITY_RE,
    FETCH_VERBS,
    FILLERS,
    SEND_VERBS,
    STOPWORDS,
    TRANSFORM_VERBS,
    VERB_WORDS,
    WAIT_VERBS,
)


class Reader:
    """Reads clauses into steps on a builder."""

    def __init__(self, builder: Builder) -> None:
        self.b = builder
        self.e = builder.entities

    # one clause --------------------------------------------------------------------------

    def clause(self, clause: str) -> bool:
        """Steps for one clause; False when nothing in it was understood."""
        b = self.b
        words = tokens_of(clause)
        verb, at = leading_verb(words)
        urls = [self.e.urls[i] for i in markers(clause, "url")]
        emails = [self.e.emails[i] for i in markers(clause, "email")]
        channels = [self.e.channels[i] for i in markers(clause, "channel")]
        tools = [self.e.tools[i] for i in markers(clause, "tool")]
        quotes = [self.e.quotes[i] for i in markers(clause, "quote")]
        jsons = [self.e.jsons[i] for i in markers(clause, "json")]
        lowered = " ".join(words)
        rest = words[at:] if at >= 0 else words
        text = restore_entities(clause, self.e)

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
            read_loop(self, "item", body)
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
            b.agent(goal_of(text, verb), verb, data)
            self._deliver(verb, rest, channels, emails, target_urls, quotes, jsons, text, made_content=True)
            return True

        if verb in TRANSFORM_VERBS:
            for url in source_urls:
                b.http(url, "GET", text)
            b.transform(verb, rest, text)
            self._deliver(verb, rest, channels, emails, target_urls, quotes, jsons, text)
            return True

        if verb in FETCH_VERBS or (verb in CREATE_VERBS and not (channels or emails)):
            method = http_method(lowered, "GET")
            for url in source_urls:
                b.http(url, method if not target_urls else "GET", text, body=jsons[0] if jsons else None, verb=verb)
            if not source_urls and not target_urls:
                tool = match_tool(b.tools, rest, verb)
                if tool:
                    b.tool_step(tool, text, rest)
                elif verb in FETCH_VERBS and b.loop_item is not None and re.search(r"\b(it|them)\b", lowered):
                    b.http("{{ item }}", method, text)
                elif verb in FETCH_VERBS and object_phrase(rest):
                    obj = object_phrase(rest)
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
                tool = match_tool(b.tools, rest, verb)
                if tool:
                    b.tool_step(tool, text, rest)
                    return True
            return self._deliver(verb, rest, channels, emails, target_urls, quotes, jsons, text, explicit=True)
        return False

    def _split_urls(self, clause: str, urls: list[str], verb: str) -> tuple[list[str], list[str]]:
        """URLs the clause reads from, and those it sends to ("to URL", or any URL of a send verb)."""
        sources, targets = [], []
        for index in markers(clause, "url"):
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
        obj = object_phrase(words) or what
        obj = re.sub(r"^(?:incoming|given|provided|following)\s+", "", obj)
        ref = self.b.add_input(snake(obj, 30), {"type": "string", "description": f"The {obj}."})
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
        obj = object_phrase(words)
        if re.search(r"\b(?:it|them|the result|the results|the summary|the report|the list|the digest)\b", joined):
            if data:
                return "{{ " + data + " }}"
        if self.b.loop_item is not None and obj.startswith("each "):
            return "{{ item." + snake(obj[5:], 30) + " }}"
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
        return title(ENTITY_RE.sub("", clause).strip(), 200)

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
            method = http_method(joined, "POST")
            body = jsons[0] if jsons else None
            b.http(url, method if method != "GET" else "POST", clause, body=body)
        if wants_slack:
            b.slack(channels[0] if channels else None, message)
        if wants_email:
            subject = email_subject(b, joined)
            b.email(emails, subject, message, words)
        return True

    def _wait(self, words: list[str], lowered: str) -> bool:
        b = self.b
        duration = duration_of(words)
        if duration and not re.search(r"\bfor\s+(?:the\s+|their\s+|an?\s+)?(?!\d)[a-z]", lowered.split("wait", 1)[-1]):
            b.wait_seconds(*duration)
            return True
        match = re.search(r"\b(?:for|until)\s+(?:the\s+|their\s+|his\s+|her\s+|an?\s+|our\s+)?([a-z][a-z-]*)", lowered)
        if match:
            signal = match.group(1)
            signal = "approval" if signal in ("approve", "approved", "sign-off", "signoff", "ok") else signal
            b.wait_signal(snake(signal, 30))
            return True
        if duration:
            b.wait_seconds(*duration)
            return True
        return False


def http_method(text: str, default: str) -> str:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        if re.search(
            rf"\b(?:with|using|as|a|an|via)\s+{method.lower()}\b|\b{method.lower()}\s+(?:request|it|them|to)\b", text
        ):
            return method
    if re.match(r"(?:then\s+)?(?:put|patch|delete)\b", text):
        return text.split()[0].upper()
    return default


def goal_of(text: str, verb: str) -> str:
    goal = ENTITY_RE.sub("", text)
    first = goal.split(" ", 1)
    if first and first[0].lower() not in VERB_WORDS and first[0].lower().rstrip("s") in VERB_WORDS | {verb}:
        goal = verb + (" " + first[1] if len(first) > 1 else "")  # "summarizes the content" → "summarize …"
    goal = re.sub(r"\b(?:from|at|of|in|to)\s*(?=[,.]|$)", "", goal).strip(" ,")
    goal = re.sub(r"\s+", " ", goal)
    return goal[0].upper() + goal[1:] if goal else verb.capitalize()


def email_subject(builder: Builder, joined: str) -> str:
    agent = next((s for s in reversed(builder.steps) if s.type == "agent_task"), None)
    if agent:
        return title(agent.name, 80)
    match = re.search(r"\bthat\s+(.+)$", joined)
    if match:
        said = ENTITY_RE.sub("", match.group(1)).strip()
        return title(said, 80)
    obj = object_phrase(joined.split())
    return title(obj, 80) if obj and obj not in ("email", "mail", "message") else "Message from your workflow"


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


def _condition_config(reader: Reader, text: str, negate: bool) -> dict:
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
        value = number_or_text(raw)
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


def number_or_text(raw: str) -> Any:
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return {"true": True, "false": False}.get(raw, raw)


def _field_for(b: Builder, subject: str) -> str:
    subject = re.sub(r"^(?:the|a|an|its|their)\s+", "", subject.strip())
    if subject.startswith(("input ", "run input ")):
        name = snake(subject.split(" ", 1)[1].replace("input ", ""), 30)
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


def read_sentence(reader: Reader, sentence: str) -> None:
    """One sentence: a chain of clauses, with conditions and loops."""
    b = reader.b
    clauses = split_clauses(sentence)
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
            read_loop(reader, body_parts[0], body_parts[1] if len(body_parts) > 1 else "")
            continue
        postfix_loop = _LOOP_POSTFIX.match(clause)
        if postfix_loop and not _COND_PREFIX.match(clause):
            read_loop(reader, postfix_loop.group(2), postfix_loop.group(1))
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
            b.ignored.append(restore_entities(clause, reader.e))


def _is_noise(clause: str) -> bool:
    words = [w for w in tokens_of(clause) if w not in FILLERS and w not in STOPWORDS]
    return not words or all(w in {"run", "do", "this", "workflow", "job", "task", "automatically"} for w in words)


def _read_condition(reader: Reader, clauses: list[str], index: int, head: str, keyword: str) -> int:
    """ "if TEST, A, B, otherwise C": returns the index after the branches (to the sentence end)."""
    test, then_first = head, None
    # "if the backlog is over 100 post to #alerts": the test ends where an action starts, right after
    # a value or an outcome ("… over 100", "… is down"); "the backup at X succeeded" has no action in it.
    for split in re.finditer(r"\s+(?:then\s+)?(?=" + CLAUSE_START + r")", head):
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


def _branch(reader: Reader, test: str, keyword: str, then_items: list[str], else_items: list[str]) -> None:
    b = reader.b
    negate = keyword == "unless"
    # A source named in the test ("the order total from URL") is fetched before the condition.
    for index in markers(test, "url"):
        b.http(reader.e.urls[index], "GET", restore_entities(test, reader.e))
    config = _condition_config(reader, restore_entities(test, reader.e), negate)
    cond = b.add(
        Draft("condition", title(f"{keyword} {restore_entities(test, reader.e)}", 60), config, "check_condition")
    )
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
                b.ignored.append(restore_entities(item, reader.e))
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


def read_loop(reader: Reader, head: str, body: str) -> None:
    """ "for each X in SOURCE" + a body clause → [fetch SOURCE] + loop(body)."""
    b = reader.b
    concurrency = None
    for text in (head, body):
        cap = _AT_MOST.search(text)
        if cap:
            concurrency = int(cap.group(1))
    head = _AT_MOST.sub("", head)
    body = _AT_MOST.sub("", body)
    urls = markers(head, "url")
    noun_match = re.match(r"\s*(?:of\s+)?(?:the\s+)?([a-z][\w -]*?)(?:\s+(?:in|from|of|at|on|returned\s+by)\b|$)",
                          ENTITY_RE.sub("", head).lower())  # fmt: skip
    noun = (noun_match.group(1).strip() if noun_match else "item") or "item"
    noun = re.sub(r"^(?:the|a|an)\s+", "", noun)
    for index in urls:
        b.http(reader.e.urls[index], "GET", restore_entities(head, reader.e))
    prev = b.previous()
    if urls and prev:
        items = "{{ " + (prev.output or f"steps.{prev.id}.output") + " }}"
    elif re.search(r"\b(?:input|given|provided)\b", head.lower()) or prev is None:
        plural = plural_of(snake(noun.split()[-1] if noun.split() else "item", 20))
        b.add_input(plural, {"type": "array", "description": f"The {plural.replace('_', ' ')} to go through."})
        items = "{{ input." + plural + " }}"
    else:
        items = "{{ " + (prev.output or f"steps.{prev.id}.output") + " }}"
    # The body is read into a scratch builder sharing entities; its one step becomes the inner step.
    inner = Builder(b.entities, b.tools)
    inner.loop_item = noun
    inner.steps = []
    inner_reader = Reader(inner)
    understood = inner_reader.clause(body) if body.strip() else False
    if not understood or not inner.steps:
        b.ignored.append(restore_entities(f"for each {head} {body}", reader.e))
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
    loop = b.add(Draft("loop", title(f"For each {noun}: {main.name}", 60), config, f"for_each_{noun}"))
    if "retry" in main.extra:
        loop.extra["retry"] = main.extra["retry"]
    b.understood += 1


def plural_of(word: str) -> str:
    if word.endswith("s"):
        return word
    if word.endswith("y") and not word.endswith(("ay", "ey", "oy", "uy")):
        return word[:-1] + "ies"
    return word + "s"
