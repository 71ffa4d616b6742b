"""Shared by the CLI-as-a-subprocess tests: the environment that points shipit at the fake Google APIs,
and a local server that answers the health checks shipit sends through SHIPIT_HEALTH_CHECK_URL_OVERRIDE."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def fake_server_env(url: str, token: str = "test-token") -> dict[str, str]:
    """Environment for a `shipit` subprocess that talks to the fake over HTTP."""
    env = {"CLOUDSDK_AUTH_ACCESS_TOKEN": token}
    for api in ("RUN", "SECRETMANAGER", "ARTIFACTREGISTRY", "LOGGING", "SQLADMIN"):
        env[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api}"] = url
    return env


class HealthServer:
    """Answers every health check with ``status``, or 503 for hosts containing one of ``unhealthy``;
    records what it was asked (Host + path)."""

    def __init__(self) -> None:
        self.status = 200
        self.unhealthy: set[str] = set()
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = self.headers.get("Host", "")
                outer.seen.append(host + self.path)
                status = 503 if any(h in host for h in outer.unhealthy) else outer.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
