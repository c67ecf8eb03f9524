"""An OpenAI-compatible API: ``GET /models`` to check, ``POST /chat/completions`` to ask."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from integrations.providers import transport
from orchestrator.security.netguard import HttpResult
from orchestrator.step_types.execution import StepError, status_kind


def base_url(config: dict) -> str:
    return config.get("base_url") or settings.ORCHESTRATOR_OPENAI_BASE_URL


def _headers(config: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {config.get('api_key', '')}"}


def _problem(result: HttpResult) -> str:
    """The provider's own error message, if it sent one (OpenAI: ``{"error": {"message"}}``)."""
    body = result.body()
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"].get("code") or "")[:300]
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])[:300]
    return ""


def _failed(what: str, result: HttpResult) -> StepError:
    detail = _problem(result)
    message = f"{what} answered HTTP {result.status_code}" + (f": {detail}" if detail else "")
    if result.status_code in (401, 403):
        message += " (the API key was rejected)"
    return StepError(message, kind=status_kind(result.status_code))


def chat(
    config: dict,
    *,
    messages: list[dict],
    secrets: list[str],
    timeout: float,
    model: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    json_mode: bool = False,
) -> dict[str, Any]:
    """One chat completion → ``{text, model, usage, finish_reason}``."""
    payload: dict[str, Any] = {"model": model or config["model"], "messages": messages}
    if temperature is not None:
        payload["temperature"] = temperature
    if max_tokens is not None:
        payload["max_tokens"] = max_tokens
    if json_mode:
        payload["response_format"] = {"type": "json_object"}
    url = transport.joined(base_url(config), "chat/completions")
    result = transport.request("POST", url, secrets=secrets, headers=_headers(config), json=payload, timeout=timeout)
    if result.status_code >= 400:
        raise _failed(f"POST {url}", result)
    body = result.body()
    try:
        choice = body["choices"][0]
        text = choice["message"]["content"]
    except (TypeError, KeyError, IndexError):
        raise StepError(f"POST {url} did not answer a chat completion (no choices[0].message.content).") from None
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return {
        "text": text if isinstance(text, str) else ("" if text is None else str(text)),
        "model": str(body.get("model") or payload["model"]),
        "usage": {
            "prompt_tokens": int(usage.get("prompt_tokens") or 0),
            "completion_tokens": int(usage.get("completion_tokens") or 0),
            "total_tokens": int(usage.get("total_tokens") or 0),
        },
        "finish_reason": choice.get("finish_reason"),
    }


def check(config: dict, *, secrets: list[str], timeout: float) -> str:
    url = transport.joined(base_url(config), "models")
    result = transport.request("GET", url, secrets=secrets, headers=_headers(config), timeout=timeout)
    if result.status_code in (404, 405):
        # Some OpenAI-compatible servers have no model list: one tiny completion proves the key instead.
        answer = chat(
            config, messages=[{"role": "user", "content": "ping"}], secrets=secrets, timeout=timeout, max_tokens=1
        )
        return f"Chat completion with {answer['model']} succeeded."
    if result.status_code >= 400:
        raise _failed(f"GET {url}", result)
    body = result.body()
    models = [str(m.get("id")) for m in body.get("data", []) if isinstance(m, dict)] if isinstance(body, dict) else []
    model = config.get("model")
    if models and model not in models:
        return f"Connected: {len(models)} models available, but {model!r} is not among them."
    return f"Connected: {len(models)} models available" + (f", {model!r} among them." if models else ".")
