"""Definitions exactly as the public APIs in /work/shared/seeds send them."""

# 001: POST /api/workflows
FETCH_AND_NOTIFY = {
    "name": "Fetch and notify",
    "steps": [
        {"id": "fetch", "type": "http_request", "config": {"method": "GET", "url": "https://api.example.com/data"}},
        {
            "id": "notify",
            "type": "agent_task",
            "config": {"agent_id": "agent_123", "goal": "Summarize the fetched data and post to Slack"},
            "depends_on": ["fetch"],
        },
    ],
}

# 004: POST /api/v2/workflows, "definition"
DEPLOY_NOTIFICATION = {
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
}

# 002: POST /api/workflows/create as a visual editor sends it (React Flow nodes and edges).
EDITOR_WORKFLOW = {
    "name": "My Workflow",
    "description": "Optional description",
    "nodes": [
        {
            "id": "trigger",
            "type": "trigger",
            "position": {"x": 0, "y": 0},
            "data": {"label": "Manual", "type": "trigger", "config": {"triggerType": "Manual"}},
        },
        {
            "id": "fetch",
            "type": "action",
            "position": {"x": 200, "y": 0},
            "data": {
                "label": "Fetch data",
                "type": "action",
                "config": {"actionType": "HTTP Request", "method": "GET", "url": "https://api.example.com/data"},
            },
        },
        {
            "id": "summarize",
            "type": "action",
            "position": {"x": 400, "y": 0},
            "data": {
                "label": "Summarize",
                "type": "agent_task",
                "config": {"goal": "Summarize {{ steps.fetch.output.body | tojson }}"},
            },
        },
    ],
    "edges": [
        {"id": "e1", "source": "trigger", "target": "fetch"},
        {"id": "e2", "source": "fetch", "target": "summarize"},
    ],
}

# 002: the literal create body of the seed.
EDITOR_EMPTY = {"name": "My Workflow", "description": "Optional description", "nodes": [], "edges": []}
