"""Config JSON Schemas per integration type (SPEC 16), and which fields are secrets."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from orchestrator.definitions.schema_check import error_message

_URL = {
    "type": "string",
    "pattern": r"^https?://[^\s/?#]+[^\s]*$",
    "errorMessage": "{value} is not an http(s) URL",
}
_TEXT = {"type": "string", "minLength": 1}

CONFIG_SCHEMAS: dict[str, dict[str, Any]] = {
    "slack": {
        "type": "object",
        "description": "A Slack bot or user token. `apiKey` is accepted as an alias of `token`.",
        "properties": {
            "token": {**_TEXT, "description": "xoxb-… bot token (secret)."},
            "apiKey": {**_TEXT, "description": "Alias of token."},
            "base_url": {**_URL, "description": "Slack Web API base URL (default ORCHESTRATOR_SLACK_BASE_URL)."},
        },
        "anyOf": [{"required": ["token"]}, {"required": ["apiKey"]}],
        "errorMessage": {"anyOf": "token is required (or its alias apiKey)"},
        "additionalProperties": False,
    },
    "smtp": {
        "type": "object",
        "required": ["host", "port", "use_tls", "from_email"],
        "properties": {
            "host": _TEXT,
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "username": _TEXT,
            "password": {"type": "string", "description": "Secret."},
            "use_tls": {"type": "boolean", "description": "STARTTLS after connecting."},
            "use_ssl": {"type": "boolean", "description": "Implicit TLS from the start (port 465)."},
            "from_email": {
                "type": "string",
                "pattern": r"^[^@\s]+@[^@\s]+$|<[^@\s<>]+@[^@\s<>]+>$",
                "errorMessage": "{value} is not an email address",
            },
        },
        "dependentRequired": {"password": ["username"]},
        "not": {
            "properties": {"use_tls": {"const": True}, "use_ssl": {"const": True}},
            "required": ["use_tls", "use_ssl"],
        },
        "errorMessage": {"not": "use_tls (STARTTLS) and use_ssl (implicit TLS) cannot both be true"},
        "additionalProperties": False,
    },
    "http": {
        "type": "object",
        "required": ["base_url", "auth_type"],
        "properties": {
            "base_url": _URL,
            "auth_type": {"type": "string", "enum": ["bearer", "basic", "header"]},
            "token": {**_TEXT, "description": "Bearer token (secret)."},
            "username": _TEXT,
            "password": {"type": "string", "description": "Secret."},
            "header_name": {
                "type": "string",
                "pattern": r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
                "errorMessage": "{value} is not an HTTP header name",
            },
            "header_value": {**_TEXT, "description": "Secret."},
        },
        "allOf": [
            {
                "if": {"properties": {"auth_type": {"const": "bearer"}}, "required": ["auth_type"]},
                "then": {"required": ["token"]},
            },
            {
                "if": {"properties": {"auth_type": {"const": "basic"}}, "required": ["auth_type"]},
                "then": {"required": ["username", "password"]},
            },
            {
                "if": {"properties": {"auth_type": {"const": "header"}}, "required": ["auth_type"]},
                "then": {"required": ["header_name", "header_value"]},
            },
        ],
        "additionalProperties": False,
    },
    "llm": {
        "type": "object",
        "description": "An OpenAI-compatible chat-completions API.",
        "required": ["api_key", "model"],
        "properties": {
            "base_url": {**_URL, "description": "API base URL (default ORCHESTRATOR_OPENAI_BASE_URL)."},
            "api_key": {**_TEXT, "description": "Secret."},
            "model": _TEXT,
        },
        "additionalProperties": False,
    },
}

SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("token", "apiKey"),
    "smtp": ("password",),
    "http": ("token", "password", "header_value"),
    "llm": ("api_key",),
}

MASK = "********"

_validators = {name: Draft202012Validator(schema) for name, schema in CONFIG_SCHEMAS.items()}


def config_problems(type_name: str, config: Any) -> list[dict[str, str]]:
    """Every problem of ``config`` for ``type_name``, as ``{"field", "message"}`` entries (never a secret)."""
    if not isinstance(config, dict):
        return [{"field": "config", "message": "Must be a JSON object."}]
    secrets = secret_values(type_name, config)
    problems = []
    for error in sorted(_validators[type_name].iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path]):
        path = "config" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        if error.validator == "required":
            message = f"{error.message.split(' is a required')[0]} is required"
        elif error.validator == "dependentRequired":
            message = error.message.replace(" is a dependency of ", " is required with ")
        elif path.rsplit(".", 1)[-1] in SECRET_FIELDS[type_name]:
            # Say which secret field is wrong, never quote its value.
            message = "must be a non-empty string"
        else:
            message = error_message(error)
        for secret in secrets:
            message = message.replace(secret, MASK)
        problems.append({"field": path, "message": message})
    return problems


def normalized(type_name: str, config: dict) -> dict:
    """The stored form: ``apiKey`` folded into ``token``."""
    config = dict(config)
    if type_name == "slack" and "apiKey" in config:
        config.setdefault("token", config["apiKey"])
        config.pop("apiKey")
    return config


def masked(type_name: str, config: dict) -> dict:
    """The config with every secret replaced by MASK (what non-admins see)."""
    return {k: (MASK if k in SECRET_FIELDS[type_name] and v not in (None, "") else v) for k, v in config.items()}


def secret_values(type_name: str, config: dict) -> list[str]:
    """The secret strings of a config, plus their encodings that may end up on the wire."""
    import base64

    values = [str(config[k]) for k in SECRET_FIELDS[type_name] if config.get(k) not in (None, "")]
    if type_name == "http" and config.get("auth_type") == "basic":
        pair = f"{config.get('username', '')}:{config.get('password', '')}"
        values.append(base64.b64encode(pair.encode()).decode())
    if type_name == "smtp" and config.get("password"):
        # AUTH PLAIN / LOGIN put these on the wire; a server may quote them back in an error.
        values.append(base64.b64encode(f"\0{config.get('username', '')}\0{config['password']}".encode()).decode())
        values.append(base64.b64encode(str(config["password"]).encode()).decode())
    return [v for v in values if len(v) >= 4]
