from __future__ import annotations

import hashlib
import hmac
import json

from orchestrator.security.netguard import http_call
from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext, StepError, status_kind
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

    def execute(self, ctx: StepContext, config: dict) -> dict:
        body = json.dumps(config.get("payload"), separators=(",", ":"), default=str).encode()
        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        headers["Content-Type"] = "application/json"
        if config.get("secret"):
            digest = hmac.new(str(config["secret"]).encode(), body, hashlib.sha256).hexdigest()
            headers[config.get("signature_header") or "X-Signature-256"] = f"sha256={digest}"
        result = http_call(
            "POST",
            config["url"],
            headers=headers,
            content=body,
            timeout=min(float(config.get("timeout") or 30), float(ctx.timeout_seconds)),
        )
        delivered = 200 <= result.status_code < 300
        output = {"status_code": result.status_code, "delivered": delivered}
        if not delivered:
            raise StepError(
                f"The receiver answered HTTP {result.status_code}", kind=status_kind(result.status_code), output=output
            )
        return output
