"""OpenAPI examples of the authoring endpoints: seed 004's parse request and seed 002's generate
prompt, with what this server answers to them (tests/authoring/test_openapi.py keeps them true)."""

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
