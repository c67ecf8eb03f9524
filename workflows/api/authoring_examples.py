"""OpenAPI examples of the authoring endpoints: seed 004's parse request and seed 002's generate
prompt, the template library, code export and their errors, with what this server answers to them
(tests/authoring/test_openapi.py asks the server and keeps them true)."""

PARSE_REQUEST = {
    "instruction": "Every Monday at 9am, pull the latest sales data, generate a summary report, and email it to "
    "the sales team.",
    "context": {"availableTools": ["salesforce.query", "email.send"]},
}

PARSE_RESPONSE = {
    "workflow": {
        "type": "generated",
        "name": "Weekly sales report by email",
        "description": "Every Monday at 09:00: query in Salesforce, then generate a summary report, "
        "then email the sales team.",
        "inputs": {
            "type": "object",
            "properties": {
                "recipients": {"type": "string", "description": "Email address(es) of the sales team, comma-separated."}
            },
            "required": ["recipients"],
        },
        "outputs": {},
        "steps": [
            {
                "id": "query_salesforce",
                "type": "integration",
                "name": "Query in Salesforce",
                "config": {"action": "salesforce.query", "params": {"query": "sales data"}},
                "depends_on": [],
            },
            {
                "id": "generate_report",
                "type": "agent_task",
                "name": "Generate a summary report",
                "config": {"goal": "Generate a summary report", "input": "{{ steps.query_salesforce.output }}"},
                "depends_on": ["query_salesforce"],
            },
            {
                "id": "send_email",
                "type": "integration",
                "name": "Email the sales team",
                "config": {
                    "action": "email.send",
                    "params": {
                        "to": "{{ input.recipients }}",
                        "subject": "Generate a summary report",
                        "body": "{{ steps.generate_report.output.text }}",
                    },
                },
                "depends_on": ["generate_report"],
            },
        ],
        "schedule": {"cron_expression": "0 9 * * 1", "timezone": "UTC", "description": "Every Monday at 09:00 (UTC)"},
        "trigger_type": "schedule",
        "confidence": 0.87,
        "source": "rules",
        "valid": True,
        "notes": [
            "Check the parameters of salesforce.query; they were guessed from the sentence.",
            "No address was given for the sales team: the run input 'recipients' holds it.",
        ],
    },
    "parse_time_ms": 12.5,
}

PARSE_UNKNOWN_INTEGRATION_REQUEST = {
    "instruction": "Summarize https://example.com/news",
    "context": {"integration_id": "Team LLM"},
}
PARSE_UNKNOWN_INTEGRATION = {
    "error": {"code": "not_found", "message": "Integration 'Team LLM' was not found in this tenant.", "details": None}
}

PARSE_TEMPLATE_REQUEST = {"instruction": "Set up an uptime check for https://example.com with a Slack alert"}

GENERATE_PROMPT = "Create a workflow that scrapes a URL and summarizes the content"
GENERATE_OPS = [
    {"op": "setName", "name": "Summary"},
    {"op": "setDescription", "description": "Fetch input.url, then summarize the content."},
    {
        "op": "setInputs",
        "inputs": {
            "type": "object",
            "properties": {"url": {"type": "string", "description": "Where url comes from."}},
            "required": ["url"],
        },
    },
    {
        "op": "addStep",
        "step": {
            "id": "fetch",
            "type": "http_request",
            "name": "Fetch input.url",
            "config": {"method": "GET", "url": "{{ input.url }}"},
            "retry": {"max_attempts": 3, "backoff": "exponential", "initial_interval_seconds": 1},
        },
    },
    {
        "op": "addStep",
        "step": {
            "id": "summarize",
            "type": "agent_task",
            "name": "Summarize the content",
            "config": {"goal": "Summarize the content", "input": "{{ steps.fetch.output.body }}"},
        },
    },
    {"op": "addEdge", "edge": {"source": "fetch", "target": "summarize"}},
    {
        "op": "done",
        "workflow": {
            "type": "generated",
            "name": "Summary",
            "description": "Fetch input.url, then summarize the content.",
            "inputs": {
                "type": "object",
                "properties": {"url": {"type": "string", "description": "Where url comes from."}},
                "required": ["url"],
            },
            "outputs": {},
            "steps": [
                {
                    "id": "fetch",
                    "type": "http_request",
                    "name": "Fetch input.url",
                    "config": {"method": "GET", "url": "{{ input.url }}"},
                    "depends_on": [],
                    "retry": {"max_attempts": 3, "backoff": "exponential", "initial_interval_seconds": 1},
                },
                {
                    "id": "summarize",
                    "type": "agent_task",
                    "name": "Summarize the content",
                    "config": {"goal": "Summarize the content", "input": "{{ steps.fetch.output.body }}"},
                    "depends_on": ["fetch"],
                },
            ],
            "trigger_type": "manual",
            "confidence": 0.91,
            "source": "rules",
            "valid": True,
            "notes": ["No address was given for url: the run input 'url' holds it."],
        },
        "parse_time_ms": 9.8,
    },
]


# --- templates and code export: real answers of this server, their IDs and times from one run ---
# (tests/authoring/test_openapi.py asks the server the same and compares, IDs and times by form)

TEMPLATE_LIST_RESPONSE = {
    "templates": [
        {
            "id": "tpl_01m8qga1s9etnywvwhjfcrjxad",
            "slug": "uptime-check",
            "name": "Uptime check with alert",
            "description": "Request a URL and post an alert to Slack when it does not answer with the "
            "expected status in time (one retry first, so a single blip does not page "
            "anyone). Schedule it every few minutes.",
            "category": "monitoring",
            "keywords": [
                "uptime",
                "uptime check",
                "health check",
                "monitor",
                "ping",
                "website down",
                "site down",
                "outage",
                "availability",
                "status page",
                "alert",
            ],
            "is_builtin": True,
            "trigger_type": "manual",
            "integrations": [
                {
                    "key": "alerts",
                    "type": "slack",
                    "steps": ["alert"],
                    "description": "The Slack workspace alerts are posted to.",
                }
            ],
            "schedule": {"timezone": "UTC", "cron_expression": "*/5 * * * *"},
            "created_by": None,
            "created_at": "2026-12-01T00:33:08.393720Z",
            "updated_at": "2026-12-01T00:33:08.393722Z",
        }
    ],
    "total": 1,
}

TEMPLATE_RESPONSE = {
    "template": {
        "id": "tpl_01m8qga1s9etnywvwhjfcrjxad",
        "slug": "uptime-check",
        "name": "Uptime check with alert",
        "description": "Request a URL and post an alert to Slack when it does not answer with the "
        "expected status in time (one retry first, so a single blip does not page "
        "anyone). Schedule it every few minutes.",
        "category": "monitoring",
        "keywords": [
            "uptime",
            "uptime check",
            "health check",
            "monitor",
            "ping",
            "website down",
            "site down",
            "outage",
            "availability",
            "status page",
            "alert",
        ],
        "is_builtin": True,
        "trigger_type": "manual",
        "integrations": [
            {
                "key": "alerts",
                "type": "slack",
                "steps": ["alert"],
                "description": "The Slack workspace alerts are posted to.",
            }
        ],
        "schedule": {"timezone": "UTC", "cron_expression": "*/5 * * * *"},
        "created_by": None,
        "created_at": "2026-12-01T00:33:08.393720Z",
        "updated_at": "2026-12-01T00:33:08.393722Z",
        "source_workflow_id": None,
        "definition": {
            "name": "Uptime check with alert",
            "description": "Request a URL and post an alert to Slack when it does not "
            "answer with the expected status in time (one retry first, so a "
            "single blip does not page anyone). Schedule it every few "
            "minutes.",
            "steps": [
                {
                    "id": "check",
                    "name": "Request the URL",
                    "type": "http_request",
                    "retry": {
                        "backoff": "fixed",
                        "retry_on": ["network", "timeout", "5xx", "4xx", "429"],
                        "max_attempts": 2,
                        "initial_interval_seconds": 1,
                    },
                    "config": {
                        "url": "{{ input.url }}",
                        "method": "GET",
                        "timeout": "{{ input.timeout_seconds }}",
                        "expected_status": "{{ input.expected_status }}",
                    },
                    "depends_on": [],
                    "timeout_seconds": 60,
                    "continue_on_error": True,
                },
                {
                    "id": "evaluate",
                    "name": "Is it up?",
                    "type": "condition",
                    "config": {"else": ["alert"], "then": [], "expression": "steps.check.status == 'completed'"},
                    "depends_on": ["check"],
                },
                {
                    "id": "alert",
                    "name": "Alert on Slack",
                    "type": "integration",
                    "config": {
                        "action": "slack.post_message",
                        "params": {
                            "text": ":rotating_light: {{ input.url }} is down: {{ steps.check.error }}",
                            "channel": "{{ input.channel }}",
                        },
                    },
                    "depends_on": ["evaluate"],
                },
            ],
            "inputs": {
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": {
                        "type": "string",
                        "default": "https://example.com/health",
                        "description": "The URL to check.",
                    },
                    "channel": {"type": "string", "default": "#alerts", "description": "Slack channel for alerts."},
                    "expected_status": {
                        "type": "integer",
                        "default": 200,
                        "description": "The status code that means up.",
                    },
                    "timeout_seconds": {
                        "type": "number",
                        "default": 10,
                        "description": "Seconds to wait for an answer.",
                    },
                },
            },
            "outputs": {"up": "{{ steps.evaluate.output.result }}", "url": "{{ input.url }}"},
            "settings": {"timeout_seconds": 300, "max_concurrent_runs": 1},
        },
    }
}

TEMPLATE_INSTALL_REQUEST = {"name": "My custom pipeline"}

TEMPLATE_INSTALL_RESPONSE = {
    "workflow_id": "wf_01m8qga5am4ee4vhv208g4z5q6",
    "workflow": {
        "id": "wf_01m8qga5am4ee4vhv208g4z5q6",
        "name": "My custom pipeline",
        "description": "Request a URL and post an alert to Slack when it does not answer with the "
        "expected status in time (one retry first, so a single blip does not page "
        "anyone). Schedule it every few minutes.",
        "version": 1,
        "status": "active",
        "trigger_type": "manual",
        "tags": ["template:uptime-check"],
        "definition": {
            "name": "My custom pipeline",
            "description": "Request a URL and post an alert to Slack when it does not "
            "answer with the expected status in time (one retry first, so a "
            "single blip does not page anyone). Schedule it every few "
            "minutes.",
            "inputs": {
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": {
                        "type": "string",
                        "default": "https://example.com/health",
                        "description": "The URL to check.",
                    },
                    "channel": {"type": "string", "default": "#alerts", "description": "Slack channel for alerts."},
                    "expected_status": {
                        "type": "integer",
                        "default": 200,
                        "description": "The status code that means up.",
                    },
                    "timeout_seconds": {
                        "type": "number",
                        "default": 10,
                        "description": "Seconds to wait for an answer.",
                    },
                },
            },
            "outputs": {"up": "{{ steps.evaluate.output.result }}", "url": "{{ input.url }}"},
            "settings": {"timeout_seconds": 300, "max_concurrent_runs": 1},
            "steps": [
                {
                    "id": "check",
                    "type": "http_request",
                    "name": "Request the URL",
                    "config": {
                        "url": "{{ input.url }}",
                        "method": "GET",
                        "timeout": "{{ input.timeout_seconds }}",
                        "expected_status": "{{ input.expected_status }}",
                    },
                    "depends_on": [],
                    "continue_on_error": True,
                    "retry": {
                        "backoff": "fixed",
                        "retry_on": ["network", "timeout", "5xx", "4xx", "429"],
                        "max_attempts": 2,
                        "initial_interval_seconds": 1,
                    },
                    "timeout_seconds": 60,
                },
                {
                    "id": "evaluate",
                    "type": "condition",
                    "name": "Is it up?",
                    "config": {"else": ["alert"], "then": [], "expression": "steps.check.status == 'completed'"},
                    "depends_on": ["check"],
                },
                {
                    "id": "alert",
                    "type": "integration",
                    "name": "Alert on Slack",
                    "config": {
                        "action": "slack.post_message",
                        "params": {
                            "text": ":rotating_light: {{ input.url }} is down: {{ steps.check.error }}",
                            "channel": "{{ input.channel }}",
                        },
                    },
                    "depends_on": ["evaluate"],
                },
            ],
        },
        "created_by": "usr_01m8qga2e55c86jsn1pcxrgfgm",
        "created_at": "2026-12-01T00:33:12.020568Z",
        "updated_at": "2026-12-01T00:33:12.020583Z",
        "visibility": "private",
        "nodes": [
            {
                "id": "check",
                "type": "action",
                "position": {"x": 0, "y": 0},
                "data": {
                    "label": "Request the URL",
                    "type": "http_request",
                    "config": {
                        "url": "{{ input.url }}",
                        "method": "GET",
                        "timeout": "{{ input.timeout_seconds }}",
                        "expected_status": "{{ input.expected_status }}",
                    },
                },
                "continue_on_error": True,
                "retry": {
                    "backoff": "fixed",
                    "retry_on": ["network", "timeout", "5xx", "4xx", "429"],
                    "max_attempts": 2,
                    "initial_interval_seconds": 1,
                },
                "timeout_seconds": 60,
            },
            {
                "id": "evaluate",
                "type": "action",
                "position": {"x": 250, "y": 0},
                "data": {
                    "label": "Is it up?",
                    "type": "condition",
                    "config": {"else": ["alert"], "then": [], "expression": "steps.check.status == 'completed'"},
                },
            },
            {
                "id": "alert",
                "type": "action",
                "position": {"x": 500, "y": 0},
                "data": {
                    "label": "Alert on Slack",
                    "type": "integration",
                    "config": {
                        "action": "slack.post_message",
                        "params": {
                            "text": ":rotating_light: {{ input.url }} is down: {{ steps.check.error }}",
                            "channel": "{{ input.channel }}",
                        },
                    },
                },
            },
        ],
        "edges": [
            {"id": "check->evaluate", "source": "check", "target": "evaluate"},
            {"id": "evaluate->alert", "source": "evaluate", "target": "alert"},
        ],
    },
}

TEMPLATE_CREATE_REQUEST = {
    "workflow_id": "wf_01m8qga5am4ee4vhv208g4z5q6",
    "name": "Our uptime check",
    "category": "monitoring",
}

TEMPLATE_CREATE_RESPONSE = {
    "template_id": "tpl_01m8qga5bsf05j4yghzbtayc6m",
    "template": {
        "id": "tpl_01m8qga5bsf05j4yghzbtayc6m",
        "slug": None,
        "name": "Our uptime check",
        "description": "Request a URL and post an alert to Slack when it does not answer with the "
        "expected status in time (one retry first, so a single blip does not page "
        "anyone). Schedule it every few minutes.",
        "category": "monitoring",
        "keywords": [
            "custom",
            "pipeline",
            "request",
            "url",
            "and",
            "post",
            "alert",
            "slack",
            "when",
            "does",
            "not",
            "answer",
            "with",
            "the",
            "expected",
            "status",
            "time",
            "one",
            "retry",
            "first",
            "single",
            "blip",
            "page",
            "anyone",
            "schedule",
            "every",
            "few",
            "minutes",
            "http_request",
            "condition",
        ],
        "is_builtin": False,
        "trigger_type": "manual",
        "integrations": [{"key": "slack", "type": "slack", "description": "A slack integration.", "steps": ["alert"]}],
        "schedule": None,
        "created_by": "usr_01m8qga2e55c86jsn1pcxrgfgm",
        "created_at": "2026-12-01T00:33:12.057881Z",
        "updated_at": "2026-12-01T00:33:12.057896Z",
        "source_workflow_id": "wf_01m8qga5am4ee4vhv208g4z5q6",
        "definition": {
            "name": "Our uptime check",
            "description": "Request a URL and post an alert to Slack when it does not "
            "answer with the expected status in time (one retry first, so a "
            "single blip does not page anyone). Schedule it every few "
            "minutes.",
            "steps": [
                {
                    "id": "check",
                    "name": "Request the URL",
                    "type": "http_request",
                    "retry": {
                        "backoff": "fixed",
                        "retry_on": ["network", "timeout", "5xx", "4xx", "429"],
                        "max_attempts": 2,
                        "initial_interval_seconds": 1,
                    },
                    "config": {
                        "url": "{{ input.url }}",
                        "method": "GET",
                        "timeout": "{{ input.timeout_seconds }}",
                        "expected_status": "{{ input.expected_status }}",
                    },
                    "depends_on": [],
                    "timeout_seconds": 60,
                    "continue_on_error": True,
                },
                {
                    "id": "evaluate",
                    "name": "Is it up?",
                    "type": "condition",
                    "config": {"else": ["alert"], "then": [], "expression": "steps.check.status == 'completed'"},
                    "depends_on": ["check"],
                },
                {
                    "id": "alert",
                    "name": "Alert on Slack",
                    "type": "integration",
                    "config": {
                        "action": "slack.post_message",
                        "params": {
                            "text": ":rotating_light: {{ input.url }} is down: {{ steps.check.error }}",
                            "channel": "{{ input.channel }}",
                        },
                    },
                    "depends_on": ["evaluate"],
                },
            ],
            "inputs": {
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": {
                        "type": "string",
                        "default": "https://example.com/health",
                        "description": "The URL to check.",
                    },
                    "channel": {"type": "string", "default": "#alerts", "description": "Slack channel for alerts."},
                    "expected_status": {
                        "type": "integer",
                        "default": 200,
                        "description": "The status code that means up.",
                    },
                    "timeout_seconds": {
                        "type": "number",
                        "default": 10,
                        "description": "Seconds to wait for an answer.",
                    },
                },
            },
            "outputs": {"up": "{{ steps.evaluate.output.result }}", "url": "{{ input.url }}"},
            "settings": {"timeout_seconds": 300, "max_concurrent_runs": 1},
        },
    },
}

TEMPLATE_BUILTIN_READ_ONLY = {
    "error": {"code": "permission_denied", "message": "Built-in templates are read-only.", "details": None}
}

TEMPLATE_NOT_FOUND = {"error": {"code": "not_found", "message": "Template 'tpl_nope' was not found.", "details": None}}

LANGUAGE_NOT_SUPPORTED = {
    "error": {
        "code": "validation_error",
        "message": "language must be one of python, typescript.",
        "details": [{"field": "language", "message": "'ruby' is not supported."}],
    }
}

PARSE_NOT_UNDERSTOOD = {
    "error": {
        "code": "instruction_not_understood",
        "message": "Could not find anything to do in the instruction: name an action (fetch a URL, "
        "summarize, email someone, post to #channel, wait 2 hours, …).",
        "details": {
            "instruction": "asdfgh qwerty zxcvb",
            "hint": "e.g. 'Every Monday at 9am fetch https://… and post a summary to #team'",
        },
    }
}


def _exported_code(language: str) -> str:
    """What ``GET /api/workflows/{id}/code`` answers for the installed workflow above, served at
    http://127.0.0.1:8000: rendered by the exporter itself, so the example follows its template."""
    from orchestrator.authoring.code_export import workflow_code
    from workflows.models import Workflow

    shown = TEMPLATE_INSTALL_RESPONSE["workflow"]
    workflow = Workflow(id=shown["id"], name=shown["name"], version=shown["version"], definition=shown["definition"])
    return workflow_code(workflow=workflow, language=language, base_url="http://127.0.0.1:8000").code


CODE_PYTHON = _exported_code("python")
CODE_TYPESCRIPT = _exported_code("typescript")
