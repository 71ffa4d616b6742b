"""A local HTTP server that records what the real `gcloud run ...` sends, and answers just enough.

gcloud talks to Cloud Run's v1 (Knative-style) API on a *regional* host it derives from the endpoint
(``https://REGION-run.googleapis.com``: it prefixes the region to the host name). A host like
``us-central1-127.0.0.1`` does not resolve, so gcloud is pointed at a made-up host
(``CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN=http://recorder.invalid/``) and at this server as its HTTP
proxy: a proxy receives the absolute URL, so no name is ever resolved. Service Usage (gcloud checks
that the Run API is enabled) is answered the same way.

Answers: the Run API is enabled; the project exists (Resource Manager); a GET of a service is 404
(or the service given as ``existing``);
a create/replace returns the resource it was sent (with a Ready status); IAM policies are empty,
and a set policy is returned as sent. Every write is kept in ``writes`` as (method, path, JSON body).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Json = dict[str, Any]
HOST = "recorder.invalid"


@dataclass
class Recorder:
    port: int = 0
    existing: Json | None = None  # the v1 service a GET returns; None: 404 (a new service)
    writes: list[tuple[str, str, Json]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)

    def bodies(self, suffix: str) -> list[Json]:
        return [body for _, path, body in self.writes if path.endswith(suffix) or suffix in path]


def _handler(rec: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: Json) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            body: Json = json.loads(raw) if raw else {}
            if self.command == "GET":
                rec.reads.append(path)
            if "/services/run.googleapis.com" in path:  # Service Usage: is the Run API enabled?
                return self._answer(200, {"name": path.removeprefix("/v1/"), "state": "ENABLED"})
            if self.command == "GET" and path.startswith("/v1/projects/") and path.count("/") == 3:
                project = path.rsplit("/", 1)[-1]  # Resource Manager: the project's number
                return self._answer(200, {"projectId": project, "projectNumber": "123456789012"})
            if path.endswith(":getIamPolicy"):
                return self._answer(200, {"etag": "BwAAAA=="})
            if self.command == "GET" and "/namespaces/" in path:
                if rec.existing is not None and "/services/" in path:
                    return self._answer(200, rec.existing)
                return self._answer(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
            if self.command in ("POST", "PUT", "PATCH"):
                rec.writes.append((self.command, path, body))
                if path.endswith(":setIamPolicy"):
                    return self._answer(200, body.get("policy", {}))
                out = copy.deepcopy(body)
                out.setdefault("metadata", {}).setdefault("namespace", "acme")
                out["status"] = {"conditions": [{"type": "Ready", "status": "True"}], "url": "https://x.a.run.app"}
                return self._answer(200, out)
            return self._answer(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


@contextmanager
def recording(existing: Json | None = None) -> Iterator[Recorder]:
    rec = Recorder(existing=existing)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="gcloud-recorder", daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


def gcloud_binary() -> str | None:
    return shutil.which("gcloud")


def run_gcloud(rec: Recorder, args: Sequence[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `gcloud ARGS` against the recorder with a throwaway config and a fake token."""
    binary = gcloud_binary()
    assert binary, "gcloud is not installed"
    with tempfile.TemporaryDirectory(prefix="gcloud-config-") as config:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": config,
            "CLOUDSDK_CONFIG": config,
            "CLOUDSDK_AUTH_ACCESS_TOKEN": "recorder-token",
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN": f"http://{HOST}/",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SERVICEUSAGE": f"http://{HOST}/",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER": f"http://{HOST}/",
            "CLOUDSDK_PROXY_TYPE": "http",
            "CLOUDSDK_PROXY_ADDRESS": "127.0.0.1",
            "CLOUDSDK_PROXY_PORT": str(rec.port),
            "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
        }
        return subprocess.run(
            [binary, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=config
        )


def write_file(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path
