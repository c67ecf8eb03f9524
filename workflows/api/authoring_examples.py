"""OpenAPI examples of the authoring endpoints: seed 004's parse request, and what this server answers to it."""

PARSE_REQUEST = {
    "instruction": "Every Monday at 9am, pull the latest sales data, generate a summary report, and email it to the "
    "sales team.",
    "context": {"availableTools": ["salesforce.query", "email.send"]},
}
PARSE_RESPONSE: dict = {}
GENERATE_LINES: list[str] = []
