"""Credentials follow a redirect only within their origin (two real servers on 127.0.0.1)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orchestrator.security.netguard import http_call


def _server(location: str | None):
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
            if location and self.path.split("?")[0] == "/start":
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture
def private_networks(settings):
    settings.ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS = True


def test_authorization_is_dropped_when_a_redirect_leaves_the_origin(private_networks):
    other, other_seen = _server(None)
    first, first_seen = _server(f"http://127.0.0.1:{other.server_address[1]}/landing")
    try:
        result = http_call(
            "GET", f"http://127.0.0.1:{first.server_address[1]}/start", headers={"Authorization": "Bearer s3cret"}
        )
    finally:
        first.shutdown()
        other.shutdown()
    assert result.status_code == 200
    assert first_seen[0]["authorization"] == "Bearer s3cret"
    assert other_seen == [{"path": "/landing", "authorization": None}]


def test_authorization_is_kept_on_a_same_origin_redirect(private_networks):
    server, seen = _server("/landing")
    try:
        http_call(
            "GET", f"http://127.0.0.1:{server.server_address[1]}/start", headers={"Authorization": "Bearer s3cret"}
        )
    finally:
        server.shutdown()
    assert [s["authorization"] for s in seen] == ["Bearer s3cret", "Bearer s3cret"]


def test_named_credential_headers_are_dropped_too_and_the_query_is_not_repeated(private_networks):
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen.append({"path": self.path, "key": self.headers.get("X-Service-Key")})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    other = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    first, _ = _server(f"http://127.0.0.1:{other.server_address[1]}/landing?page=2")
    try:
        http_call(
            "GET",
            f"http://127.0.0.1:{first.server_address[1]}/start",
            params={"page": "1"},
            headers={"X-Service-Key": "s3cret"},
            credential_headers=("X-Service-Key",),
        )
    finally:
        first.shutdown()
        other.shutdown()
    assert seen == [{"path": "/landing?page=2", "key": None}]
