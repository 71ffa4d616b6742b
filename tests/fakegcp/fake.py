"""FakeGCP: the state of all faked APIs and the one request dispatcher both front doors use."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from fakegcp.artifactregistry import ArtifactRegistry
from fakegcp.cloudbuild import CloudBuild
from fakegcp.discovery import Discovery, discovery
from fakegcp.errors import ApiError, html_not_found
from fakegcp.faults import Faults
from fakegcp.logging_api import Logging
from fakegcp.model import ApiRequest, ApiResponse, Clock, Handler
from fakegcp.run import CloudRun
from fakegcp.secretmanager import SecretManager
from fakegcp.sqladmin import SqlAdmin
from fakegcp.storage import Storage

RawResponse = tuple[int, dict[str, str], bytes]
_JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
_NON_MUTATING_SUFFIXES = (".wait", ".testIamPermissions")
# Reads that Google models as POST (a filter too long for a query string).
_READ_ONLY_POSTS = frozenset({"logging.entries.list"})


class DroppedResponse(Exception):
    """The request was applied but its response is lost; front doors reset the connection."""


@dataclass(frozen=True)
class Call:
    """One request the fake received, as recorded in the call log."""

    method_id: str | None
    http_method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    dropped: bool = False
    at: float = field(default=0.0, compare=False)

    @property
    def mutating(self) -> bool:
        return (
            self.method_id is not None
            and self.http_method != "GET"
            and not self.method_id.endswith(_NON_MUTATING_SUFFIXES)
            and self.method_id not in _READ_ONLY_POSTS
        )


class FakeGCP:
    """Stateful in-memory Cloud Run v2 (services, jobs, worker pools), Secret Manager v1, Artifact Registry v1,
    Cloud Logging v2 (reads), Cloud Build v1 (regional builds), Cloud Storage v1 (objects) and Cloud SQL Admin v1
    (databases)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.discovery: Discovery = discovery()
        self.clock = Clock()
        self.faults = Faults()
        self._calls: list[Call] = []
        self.secrets = SecretManager(self.clock)
        self.run = CloudRun(self.clock)
        self.artifacts = ArtifactRegistry(self.clock)
        self.logging = Logging(self.clock)
        self.storage = Storage(self.clock)
        self.sql = SqlAdmin(self.clock)
        self.cloudbuild = CloudBuild(self.clock, self.storage, self.secrets, self.faults)
        self.handlers: dict[str, Handler] = self._all_handlers()

    def _all_handlers(self) -> dict[str, Handler]:
        return {
            **self.secrets.handlers(),
            **self.run.handlers(),
            **self.artifacts.handlers(),
            **self.logging.handlers(),
            **self.storage.handlers(),
            **self.cloudbuild.handlers(),
            **self.sql.handlers(),
        }

    def mock(self, *extra_hosts: str) -> Any:
        """Context manager: intercept Google's API hosts (and `extra_hosts`) with `responses`."""
        from fakegcp.harness import mock

        return mock(self, *extra_hosts)

    # -- call log -----------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self.lock:
            return list(self._calls)

    def calls_to(self, method_id: str) -> list[Call]:
        return [c for c in self.calls if c.method_id == method_id]

    def mutating_calls(self) -> list[Call]:
        return [c for c in self.calls if c.mutating]

    def reset_calls(self) -> None:
        with self.lock:
            self._calls.clear()

    def reset(self) -> None:
        """Forget all state, faults, readiness rules and calls."""
        with self.lock:
            self.secrets.reset()
            self.run.reset()
            self.artifacts.reset()
            self.logging.reset()
            self.storage.reset()
            self.cloudbuild.reset()
            self.sql.reset()
            self.handlers = self._all_handlers()
            self.faults.clear()
            self._calls.clear()

    def state(self) -> dict[str, Any]:
        """Names of every resource, for debugging and the control API."""
        with self.lock:
            return {
                "secrets": {
                    n: sorted(v["name"].rsplit("/", 1)[1] for v in vs) for n, vs in self.secrets.versions.items()
                },
                "services": sorted(self.run.services),
                "revisions": sorted(self.run.revisions),
                "jobs": sorted(self.run.jobs.jobs),
                "executions": sorted(self.run.jobs.executions),
                "worker_pools": sorted(self.run.worker_pools.pools),
                "repositories": sorted(self.artifacts.repositories),
                "docker_images": {r: [i["uri"] for i in imgs] for r, imgs in self.artifacts.images.items()},
                "log_entries": len(self.logging.entries),
                "builds": {n: b["status"] for n, b in self.cloudbuild.builds.items()},
                "objects": sorted(f"{b}/{o}" for b, o in self.storage.objects),
                "sql_databases": {f"{p}/{i}": sorted(dbs) for (p, i), dbs in self.sql.instances.items()},
            }

    def _record(self, call: Call) -> None:
        with self.lock:
            self._calls.append(call)

    # -- dispatch -----------------------------------------------------------------------
    def handle(self, method: str, url: str, headers: dict[str, str] | Any, body: bytes | str | None) -> RawResponse:
        """Serve one HTTP request. Raises DroppedResponse when a drop fault hits."""
        parts = urlsplit(url)
        path = parts.path
        raw_body = body.encode() if isinstance(body, str) else (body or b"")
        host = _header(headers, "Host") or parts.netloc
        if path.startswith("/__fake/"):
            from fakegcp.control import handle_control

            return handle_control(self, method.upper(), path, parse_qs(parts.query), raw_body)
        query_multi = parse_qs(parts.query, keep_blank_values=True)
        query = {k: v[-1] for k, v in query_multi.items()}
        routed = self.discovery.route(method.upper(), path.lstrip("/"), host)
        parsed_body = _parse_json(raw_body)
        if routed is None:
            self._record(Call(None, method.upper(), path, query, parsed_body, 404, at=time.time()))
            return 404, {"Content-Type": "text/html; charset=UTF-8"}, html_not_found(path).encode()
        api_method, params = routed
        params = {k: _unquote_param(v) for k, v in params.items()}
        decision = self.faults.decide(api_method.id)
        if decision.delay:
            time.sleep(decision.delay)
        if decision.action == "error":
            err = ApiError.injected(decision.status, decision.message)
            return self._finish(api_method.id, method, path, query, parsed_body, err.http_code, err.to_json())
        if api_method.media and api_method.request_ref is None:
            parsed_body = f"<{len(raw_body)} bytes>" if raw_body else None
        status, payload = self._dispatch(
            api_method.id, api_method, params, query_multi, query, raw_body, host, dict(headers or {})
        )
        if decision.action == "drop":
            self._record(Call(api_method.id, method.upper(), path, query, parsed_body, status, True, time.time()))
            raise DroppedResponse(api_method.id)
        if isinstance(payload, ApiResponse):  # raw bytes (a media download)
            self._record(Call(api_method.id, method.upper(), path, query, parsed_body, status, False, time.time()))
            return status, dict(payload.headers), payload.raw or b""
        return self._finish(api_method.id, method, path, query, parsed_body, status, payload)

    def _dispatch(
        self,
        method_id: str,
        api_method: Any,
        params: dict[str, str],
        query_multi: dict[str, list[str]],
        query: dict[str, str],
        raw_body: bytes,
        host: str,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any] | ApiResponse]:
        try:
            self.discovery.validate_query(api_method, query_multi)
            body_json: Any = {}
            if api_method.request_ref is not None:
                try:
                    body_json = json.loads(raw_body) if raw_body.strip() else {}
                except json.JSONDecodeError as exc:
                    raise ApiError.invalid_argument(
                        f"Invalid JSON payload received. Unexpected token.\n{exc.msg}"
                    ) from exc
            body = self.discovery.validate_body(api_method, body_json)
            handler = self.handlers.get(method_id)
            if handler is None:
                raise ApiError.unimplemented(f"Method {method_id} is not implemented by fakegcp.")
            with self.lock:
                result = handler(ApiRequest(api_method, params, query, body, host, raw_body, headers or {}))
        except ApiError as err:
            return err.http_code, err.to_json()
        if isinstance(result, ApiResponse):
            if result.raw is not None:
                return result.status, result
            return result.status, result.body
        return 200, result

    def _finish(
        self,
        method_id: str,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        status: int,
        payload: dict[str, Any],
    ) -> RawResponse:
        self._record(Call(method_id, method.upper(), path, query, body, status, False, time.time()))
        return status, dict(_JSON_HEADERS), json.dumps(payload).encode()


def _unquote_param(value: str) -> str:
    # Keep an encoded slash encoded: Artifact Registry names carry nested image paths as %2F.
    return unquote(value.replace("%2F", "%252F").replace("%2f", "%252F"))


def _header(headers: Any, name: str) -> str:
    if not headers:
        return ""
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")
