from __future__ import annotations

from orchestrator.security.netguard import http_call
from orchestrator.step_types.base import StepType
from orchestrator.step_types.execution import StepContext, StepError, status_kind
from orchestrator.step_types.registry import registry
from orchestrator.step_types.schemas import TEMPLATE, positive_number, string_map, templated

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

_status = {"type": "integer", "minimum": 100, "maximum": 599}


@registry.register
class HttpRequestStep(StepType):
    name = "http_request"
    label = "HTTP request"
    category = "action"
    description = (
        "Call an HTTP API. Give the body as `json`, raw `body` or `form`; with `integration_id` the request "
        "carries that integration's auth and `url` may be relative to its `base_url`. The output's `body` is "
        "parsed when the response is JSON."
    )
    config_schema = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "method": {
                "type": "string",
                # Lower case is accepted too: the executor upper-cases it.
                "enum": METHODS + [m.lower() for m in METHODS],
                "default": "GET",
                "errorMessage": "{value} is not an HTTP method (" + ", ".join(METHODS) + ")",
            },
            "url": {
                "type": "string",
                "minLength": 1,
                "description": "Absolute URL, or relative to the integration's base_url.",
            },
            "headers": string_map("Request headers."),
            "query": string_map("Query string parameters."),
            "json": {"description": "A JSON body (any value)."},
            "body": templated({"type": "string", "description": "A raw text body."}, "text"),
            "form": string_map("Form fields, sent as application/x-www-form-urlencoded."),
            "timeout": positive_number("Seconds to wait for the response.", maximum=3600),
            "expected_status": {
                "anyOf": [_status, {"type": "array", "items": _status, "minItems": 1}, TEMPLATE],
                "errorMessage": "{value} is not an HTTP status code, a list of them, or a {{ template }}",
                "description": "Status code(s) counted as success; default any 2xx.",
            },
            "integration_id": {
                "type": "string",
                "minLength": 1,
                "description": "An integration giving auth and base_url.",
            },
            "follow_redirects": {"type": "boolean", "default": True},
        },
        "allOf": [
            {"not": {"required": ["json", "body"]}, "errorMessage": "give only one of json, body or form"},
            {"not": {"required": ["json", "form"]}, "errorMessage": "give only one of json, body or form"},
            {"not": {"required": ["body", "form"]}, "errorMessage": "give only one of json, body or form"},
        ],
    }
    output_schema = {
        "type": "object",
        "required": ["status_code", "headers", "body"],
        "properties": {
            "status_code": {"type": "integer"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": {"description": "Parsed JSON when the response is JSON, else text."},
        },
    }
    examples = [
        {"method": "GET", "url": "https://api.example.com/data"},
        {
            "method": "POST",
            "url": "https://api.example.com/orders",
            "headers": {"X-Request-Source": "orchestrator"},
            "json": {"customer": "{{ input.customer_id }}", "items": "{{ steps.cart.output.body.items }}"},
            "timeout": 10,
            "expected_status": [200, 201],
        },
        {
            "method": "GET",
            "url": "/v1/reports",
            "integration_id": "int_reporting",
            "query": {"since": "{{ input.since }}"},
        },
    ]

    def execute(self, ctx: StepContext, config: dict) -> dict:
        url = config["url"]
        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        call = http_call
        if config.get("integration_id"):
            from functools import partial

            from integrations.step_calls import integration_http_call

            # Resolves url against the integration's base_url, adds its auth, keeps the credentials
            # off cross-origin redirects and masks them in what comes back.
            call = partial(integration_http_call, ctx, config["integration_id"])
        body = config.get("body")
        result = call(
            str(config.get("method") or "GET").upper(),
            url,
            headers=headers,
            params=config.get("query") or None,
            json=config.get("json"),
            content=body if isinstance(body, str | bytes) or body is None else str(body),
            data=config.get("form") or None,
            timeout=min(float(config.get("timeout") or ctx.timeout_seconds), float(ctx.timeout_seconds)),
            follow_redirects=bool(config.get("follow_redirects", True)),
        )
        output = {"status_code": result.status_code, "headers": result.headers, "body": result.body()}
        expected = config.get("expected_status")
        if expected is not None:
            allowed = [int(code) for code in (expected if isinstance(expected, list) else [expected])]
            ok = result.status_code in allowed
        else:
            ok = 200 <= result.status_code < 300
        if not ok:
            raise StepError(
                f"HTTP {result.status_code} from {result.url}", kind=status_kind(result.status_code), output=output
            )
        return output
