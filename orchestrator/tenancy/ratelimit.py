"""Requests per minute per user or API key, counted in the shared cache (Redis),
so every web process sees the same count."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

WINDOW_SECONDS = 60


def _identity(request: Request) -> str:
    key = getattr(request.auth, "api_key_id", None)
    if key:
        return f"key:{key}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    forwarded = request.META.get("REMOTE_ADDR", "unknown")
    return f"ip:{forwarded}"


class RedisRateThrottle(BaseThrottle):
    """A fixed one-minute window; ``ORCHESTRATOR_RATE_LIMIT=0`` turns it off."""

    def allow_request(self, request: Request, view: Any) -> bool:
        limit = settings.ORCHESTRATOR_RATE_LIMIT
        if limit <= 0:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"ratelimit:{_identity(request)}:{window}"
        cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=WINDOW_SECONDS + 5)
            count = 1
        self._wait = (window + 1) * WINDOW_SECONDS - now
        # The middleware copies these onto the response (any DRF view, any status).
        request._request.ratelimit = (limit, max(0, limit - count), int((window + 1) * WINDOW_SECONDS))
        return count <= limit

    def wait(self) -> float:
        return self._wait


class RateLimitHeadersMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        info = getattr(request, "ratelimit", None)
        if info:
            limit, remaining, reset = info
            response["X-RateLimit-Limit"] = str(limit)
            response["X-RateLimit-Remaining"] = str(remaining)
            response["X-RateLimit-Reset"] = str(reset)
        return response
