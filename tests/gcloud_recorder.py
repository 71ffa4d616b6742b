"""A local HTTP server that records what the real `gcloud run ...` sends, and answers just enough.

gcloud talks to Cloud Run's v1 (Knative-style) API on a *regional* host it derives from the endpoint
(``https://REGION-run.googleapis.com``: it prefixes the region to the host name). A host like
``us-central1-127.0.0.1`` does not resolve, so gcloud is pointed at a made-up host
(``CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN=http://recorder.invalid/``) and at this server as its HTTP
proxy: a proxy receives the absolute URL, so no name is ever resolved. Service Usage (gcloud checks
that the Run API is enabled) is answered the same way.

`gcloud beta run worker-pools` speaks gRPC instead: with ``recording(grpc=True)`` the proxy also takes
``CONNECT`` and tunnels it to a TLS gRPC server (tests/gcloud_grpc.py) whose throwaway certificate gcloud
is told to trust (``core/custom_ca_certs_file``).

Answers: the Run API is enabled; the project exists (Resource Manager); a GET of a service is 404
(or the service given as ``existing``);
a create/replace returns the resource it was sent (with a Ready status), and a later GET of it
returns the same; IAM policies are empty,
and a set policy is returned as sent. Every write is kept in ``writes`` as (method, path, JSON body).
"""

from __future__ import annotations

import copy
import json
import os
import select
import shutil
import socket
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
    # What was written, Ready, by path: what gcloud reads back while it waits (GET of the new resource).
    resources: dict[str, Json] = field(default_factory=dict)
    grpc: Any = None  # a gcloud_grpc.GrpcRecorder with recording(grpc=True)
    ca_file: Path | None = None  # the certificate gcloud must trust for the gRPC server

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

        def do_CONNECT(self) -> None:  # the gRPC client's proxy tunnel
            if rec.grpc is None:
                self.send_error(501)
                return
            upstream = socket.create_connection(("127.0.0.1", rec.grpc.port))
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            ends = [self.connection, upstream]
            try:
                while True:
                    readable, _, _ = select.select(ends, [], [], 30)
                    if not readable:
                        return
                    for end in readable:
                        data = end.recv(65536)
                        if not data:
                            return
                        (upstream if end is self.connection else self.connection).sendall(data)
            except OSError:
                return
            finally:
                upstream.close()

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
            if self.command == "GET" and path in rec.resources:
                return self._answer(200, rec.resources[path])
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
                name = (body.get("metadata") or {}).get("name")
                rec.resources[f"{path}/{name}" if self.command == "POST" and name else path] = out
                return self._answer(200, out)
            return self._answer(404, {"error": {"code": 404, "message": f"no route {path}", "status": "NOT_FOUND"}})

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


@contextmanager
def recording(existing: Json | None = None, grpc: bool = False, pool: Json | None = None) -> Iterator[Recorder]:
    """The recorder; with ``grpc`` also its gRPC half (``pool``: the v2 worker pool a GET returns)."""
    rec = Recorder(existing=existing)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="gcloud-recorder", daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory(prefix="gcloud-recorder-") as tmp:
        grpc_server = None
        if grpc:
            from gcloud_grpc import GrpcServer, self_signed

            # gcloud dials REGION-HOST for the regional Cloud Run endpoint.
            key, cert, rec.ca_file = self_signed([f"us-central1-{HOST}", HOST], Path(tmp))
            grpc_server = GrpcServer(key, cert, pool)
            rec.grpc = grpc_server.recorder
            grpc_server.start()
        try:
            yield rec
        finally:
            if grpc_server is not None:
                grpc_server.stop()
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
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDSCHEDULER": f"http://{HOST}/",
            "CLOUDSDK_PROXY_TYPE": "http",
            "CLOUDSDK_PROXY_ADDRESS": "127.0.0.1",
            "CLOUDSDK_PROXY_PORT": str(rec.port),
            "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
        }
        if rec.ca_file is not None:
            env["CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE"] = str(rec.ca_file)
        return subprocess.run(
            [binary, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=config
        )


def write_file(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path
