from __future__ import annotations

from orchestrator.step_types.base import StepType
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import positive_number, string_map


@registry.register
class WebhookStep(StepType):
    name = "webhook"
    label = "Outbound webhook"
    category = "action"
    description = (
        "POST a templated JSON payload to a URL. With `secret`, the body is signed with HMAC-SHA256 and "
        "the hex digest sent as `sha256=<digest>` in `signature_header`."
    )
    config_schema = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "minLength": 1},
            "payload": {"description": "The JSON body (any value); templates are rendered first."},
            "headers": string_map("Extra request headers."),
            "secret": {"type": "string", "minLength": 1, "description": "Key for the HMAC-SHA256 signature."},
            "signature_header": {
                "type": "string",
                "pattern": "^[A-Za-z0-9-]+$",
                "default": "X-Signature-256",
                "description": "Header carrying the signature.",
            },
            "timeout": positive_number("Seconds to wait for the receiver.", maximum=3600),
        },
    }
    output_schema = {
        "type": "object",
        "required": ["status_code", "delivered"],
        "properties": {"status_code": {"type": "integer"}, "delivered": {"type": "boolean"}},
    }
    examples = [
        {"url": "https://hooks.example.com/orders", "payload": {"order": "{{ steps.create.output.body }}"}},
        {
            "url": "https://partner.example.com/events",
            "payload": {"event": "run.finished", "run_id": "{{ run.id }}"},
            "secret": "{{ input.signing_secret }}",
            "signature_header": "X-Hub-Signature-256",
        },
    ]
