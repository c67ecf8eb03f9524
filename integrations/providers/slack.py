"""Slack Web API: ``auth.test`` to check a token, ``chat.postMessage`` to post."""

from __future__ import annotations

from django.conf import settings

from integrations.providers import transport
from orchestrator.step_types.execution import StepError, status_kind

_POST_FIELDS = ("channel", "text", "blocks", "attachments", "thread_ts", "reply_broadcast", "mrkdwn",
                "unfurl_links", "unfurl_media", "username", "icon_emoji", "icon_url")  # fmt: skip


def base_url(config: dict) -> str:
    return config.get("base_url") or settings.ORCHESTRATOR_SLACK_BASE_URL


def _call(config: dict, method: str, payload: dict, secrets: list[str], timeout: float) -> dict:
    token = config.get("token") or config.get("apiKey") or ""
    result = transport.request(
        "POST",
        transport.joined(base_url(config), method),
        secrets=secrets,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"},
        json=payload,
        timeout=timeout,
    )
    body = result.body()
    if result.status_code >= 400:
        raise StepError(f"Slack {method} answered HTTP {result.status_code}", kind=status_kind(result.status_code))
    if not isinstance(body, dict):
        raise StepError(f"Slack {method} did not answer JSON (HTTP {result.status_code}).")
    if not body.get("ok"):
        error = str(body.get("error") or "unknown_error")
        kind = "429" if error == "ratelimited" else "error"
        raise StepError(f"Slack {method} failed: {error}", kind=kind, output=body)
    return body


def check(config: dict, *, secrets: list[str], timeout: float) -> str:
    body = _call(config, "auth.test", {}, secrets, timeout)
    who = " ".join(str(body[k]) for k in ("user", "team") if body.get(k))
    return f"Slack auth.test succeeded{f' ({who})' if who else ''}."


def post_message(config: dict, params: dict, *, secrets: list[str], timeout: float) -> dict:
    payload = {k: params[k] for k in _POST_FIELDS if params.get(k) is not None}
    if "text" not in payload and params.get("message") is not None:
        payload["text"] = str(params["message"])
    if not payload.get("channel"):
        raise StepError("slack.post_message needs a channel (params.channel).")
    if not payload.get("text") and not payload.get("blocks"):
        raise StepError("slack.post_message needs text (params.text or params.message) or blocks.")
    return _call(config, "chat.postMessage", payload, secrets, timeout)
