"""The API's documentation pages, served whole from this project (no CDN, no web fonts)."""

from __future__ import annotations

from drf_spectacular.views import SpectacularRedocView


class RedocView(SpectacularRedocView):
    # drf-spectacular's own template links Google Fonts; ours is the same page without them.
    template_name = "orchestrator/redoc.html"
