"""Fixtures for integrations: an encryption key (in this process and the worker's), and
provider-shaped servers on 127.0.0.1 that check the credentials they are sent:
a Slack Web API, an OpenAI-compatible API, a bearer-protected HTTP API (all on one
local HTTP server, under /slack, /v1 and /api) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import base64
import json
import os
import threading

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from integrations.services import integration_create
from tests.engine.conftest import Worker, _engine_queue, http_server  # noqa: F401  (fixtures)
from tests.live import free_port

SLACK_TOKEN = "xoxb-1111-2222-slacktokensecret"
LLM_KEY = "sk-test-llmkey-0123456789abcdef"
HTTP_TOKEN = "http-bearer-secret-9f8e7d6c"
SMTP_USER = "robot"
SMTP_PASSWORD = "smtp-pass-5c4b3a29"
ALL_SECRETS = [SLACK_TOKEN, LLM_KEY, HTTP_TOKEN, SMTP_PASSWORD]


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


# One key for the session: the worker (started once per module) must hold the same one.
SESSION_KEYS = new_key()


@pytest.fixture(autouse=True)
def encryption_keys(settings) -> str:
    """The key in Django's settings of this process; the worker gets it through its environment."""
    settings.ORCHESTRATOR_ENCRYPTION_KEYS = SESSION_KEYS
    return SESSION_KEYS


@pytest.fixture(scope="module")
def integration_worker(django_db_setup, _engine_queue):  # noqa: F811
    """A real worker for the module, with ORCHESTRATOR_ENCRYPTION_KEYS in its environment.
    Tests using it also take ``transactional_db`` so that it sees their rows."""
    started = Worker(extra_env={"ORCHESTRATOR_ENCRYPTION_KEYS": SESSION_KEYS}).start()
    yield started
    started.stop()


def header(headers: dict, name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _bearer_ok(headers: dict, token: str) -> bool:
    return header(headers, "Authorization") == f"Bearer {token}"


class FakeApis:
    """What the provider-shaped routes received; ``llm_answer`` is what the model says."""

    def __init__(self, server) -> None:
        self.server = server
        self.slack_messages: list[dict] = []
        self.chat_requests: list[dict] = []
        self.api_requests: list[dict] = []
        self.llm_answer = "A short summary."
        self.slack_base = f"{server.url}/slack"
        self.llm_base = f"{server.url}/v1"
        self.http_base = f"{server.url}/api"

    def install(self) -> FakeApis:
        routes = self.server.routes

        def slack_auth_test(attempt, raw, headers):
            if not _bearer_ok(headers, SLACK_TOKEN):
                return 200, {"ok": False, "error": "invalid_auth"}
            return 200, {"ok": True, "team": "Acme", "user": "orchestrator-bot", "team_id": "T1", "user_id": "U1"}

        def slack_post(attempt, raw, headers):
            if not _bearer_ok(headers, SLACK_TOKEN):
                return 200, {"ok": False, "error": "invalid_auth"}
            body = json.loads(raw)
            if not body.get("channel"):
                return 200, {"ok": False, "error": "channel_not_found"}
            self.slack_messages.append(body)
            return 200, {"ok": True, "channel": "C0123", "ts": "1700000000.000100", "message": {"text": body["text"]}}

        def llm_models(attempt, raw, headers):
            if not _bearer_ok(headers, LLM_KEY):
                # OpenAI quotes the key it was given; the orchestrator must not pass that on.
                given = (header(headers, "Authorization") or "").removeprefix("Bearer ")
                return 401, {"error": {"message": f"Incorrect API key provided: {given}", "code": "invalid_api_key"}}
            return 200, {"object": "list", "data": [{"id": "gpt-test", "object": "model"}]}

        def llm_chat(attempt, raw, headers):
            if not _bearer_ok(headers, LLM_KEY):
                given = (header(headers, "Authorization") or "").removeprefix("Bearer ")
                return 401, {"error": {"message": f"Incorrect API key provided: {given}", "code": "invalid_api_key"}}
            body = json.loads(raw)
            self.chat_requests.append(body)
            roles = [m.get("role") for m in body.get("messages", [])]
            if not body.get("model") or "user" not in roles:
                return 400, {"error": {"message": "model and a user message are required"}}
            return 200, {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": self.llm_answer}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
            }

        def api(attempt, raw, headers):
            if not _bearer_ok(headers, HTTP_TOKEN):
                return 401, {"detail": "bad token"}
            self.api_requests.append({"body": raw, "headers": headers})
            return 200, {"items": [1, 2, 3]}

        def api_echo(attempt, raw, headers):
            # A careless API that reflects the request headers, credentials included.
            return 200, {"headers": {k: v for k, v in headers.items()}}

        routes["/slack/auth.test"] = slack_auth_test
        routes["/slack/chat.postMessage"] = slack_post
        routes["/v1/models"] = llm_models
        routes["/v1/chat/completions"] = llm_chat
        routes["/api"] = api
        routes["/api/"] = api
        routes["/api/items"] = api
        routes["/api/echo"] = api_echo
        return self


@pytest.fixture
def apis(http_server) -> FakeApis:  # noqa: F811
    return FakeApis(http_server).install()


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []
        self.logins: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """An SMTP server on 127.0.0.1 that wants AUTH (robot / SMTP_PASSWORD) before MAIL."""
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            inbox.logins.append((auth_data.login.decode(), mechanism))
            if auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode():
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


# --- integrations ---------------------------------------------------------------------


def slack_config(apis: FakeApis, token: str = SLACK_TOKEN) -> dict:
    return {"token": token, "base_url": apis.slack_base}


def llm_config(apis: FakeApis, key: str = LLM_KEY) -> dict:
    return {"base_url": apis.llm_base, "api_key": key, "model": "gpt-test"}


def http_config(apis: FakeApis, token: str = HTTP_TOKEN) -> dict:
    return {"base_url": apis.http_base, "auth_type": "bearer", "token": token}


def smtp_config(inbox: Inbox, password: str = SMTP_PASSWORD) -> dict:
    return {
        "host": "127.0.0.1",
        "port": inbox.port,
        "username": SMTP_USER,
        "password": password,
        "use_tls": False,
        "from_email": "robot@example.com",
    }


@pytest.fixture
def make_integration():
    def make(user, type_name: str, config: dict, name: str | None = None):
        return integration_create(user=user, name=name or f"{type_name} integration", type=type_name, config=config)

    return make
