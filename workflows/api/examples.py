"""OpenAPI examples, taken from the public API documents this product follows."""

from drf_spectacular.utils import OpenApiExample

FETCH_AND_NOTIFY = {
    "definition": {
        "name": "Fetch and notify",
        "steps": [
            {
                "id": "fetch",
                "type": "http_request",
                "config": {"method": "GET", "url": "https://api.example.com/data"},
            },
            {
                "id": "notify",
                "type": "agent_task",
                "config": {"agent_id": "agent_123", "goal": "Summarize the fetched data and post to Slack"},
                "depends_on": ["fetch"],
            },
        ],
    },
    "trigger_type": "manual",
    "tags": ["notifications"],
}

DEPLOY_NOTIFICATION = {
    "name": "Deploy Notification",
    "description": "Notify the team when a deployment completes",
    "definition": {
        "nodes": [
            {
                "id": "step_1",
                "type": "condition",
                "action": "check_status",
                "config": {"field": "$.deployment.status", "operator": "equals", "value": "success"},
            },
            {
                "id": "step_2",
                "type": "integration",
                "action": "slack.post_message",
                "input_from": "step_1",
                "config": {"channel": "#deployments", "message": "Deployment completed successfully!"},
            },
        ],
        "inputs": {},
        "outputs": {},
    },
}

CREATE_EXAMPLES = [
    OpenApiExample("Fetch and notify", value=FETCH_AND_NOTIFY, request_only=True),
    OpenApiExample("Nodes with input_from", value=DEPLOY_NOTIFICATION, request_only=True),
]

VALIDATE_EXAMPLES = [
    OpenApiExample("Validate", value={"definition": FETCH_AND_NOTIFY["definition"]}, request_only=True),
    OpenApiExample("Valid", value={"valid": True, "errors": []}, response_only=True),
    OpenApiExample(
        "Invalid",
        value={
            "valid": False,
            "errors": [
                "Step 'notify' depends on 'fetch' which doesn't exist",
                "Cycle detected: step_a → step_b → step_a",
            ],
        },
        response_only=True,
    ),
]
