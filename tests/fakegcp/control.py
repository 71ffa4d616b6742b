"""The control API (`/__fake/...`) served next to the Google APIs, and its Python client.

Endpoints (JSON in, JSON out):
  GET    /__fake/calls           the call log (?method_id=... to filter)
  DELETE /__fake/calls           forget the call log
  POST   /__fake/reset           forget all state, faults and calls
  POST   /__fake/faults          {"kind": "fail"|"fail_every"|"drop_response"|"latency"|"clear", ...}
  POST   /__fake/readiness       {"service": NAME, "message": MSG} fail new revisions;
                                 {"service": NAME, "ready": true} lets them become Ready again
  POST   /__fake/executions      {"job": NAME, "message": MSG} make executions of a job fail
  POST   /__fake/operations      {"polls_before_done": N}
  POST   /__fake/seed/secret     {"project", "secret_id", "values": [...], "labels": {...}}
  POST   /__fake/seed/repository {"name": "projects/P/locations/L/repositories/R", "format": "DOCKER"}
  POST   /__fake/seed/docker-image {"repository", "image", "tags": [...], "digest"}
  POST   /__fake/seed/sql-instance {"project", "instance", "databases": [...]} (a Cloud SQL instance)
  POST   /__fake/seed/log-entries {"entries": [LogEntry JSON, ...]} (insertId/timestamp filled in)
  GET    /__fake/state           names of every secret, service, revision, job, repository
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from fakegcp.fake import FakeGCP, RawResponse

_JSON = {"Content-Type": "application/json"}


def _ok(payload: Any, status: int = 200) -> RawResponse:
    return status, dict(_JSON), json.dumps(payload).encode()


def handle_control(fake: FakeGCP, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> RawResponse:
    try:
        body: dict[str, Any] = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return _ok({"error": "body must be JSON"}, 400)
    route = (method, path.rstrip("/"))
    try:
        if route == ("GET", "/__fake/calls"):
            calls = fake.calls
            if "method_id" in query:
                calls = [c for c in calls if c.method_id in query["method_id"]]
            return _ok({"calls": [asdict(c) | {"mutating": c.mutating} for c in calls]})
        if route == ("DELETE", "/__fake/calls"):
            fake.reset_calls()
            return _ok({})
        if route == ("POST", "/__fake/reset"):
            fake.reset()
            return _ok({})
        if route == ("POST", "/__fake/faults"):
            _faults(fake, body)
            return _ok({})
        if route == ("POST", "/__fake/readiness"):
            with fake.lock:
                if body.get("ready"):
                    fake.run.allow_revisions(body["service"])
                else:
                    fake.run.fail_revisions(body["service"], **_only(body, "message"))
            return _ok({})
        if route == ("POST", "/__fake/executions"):
            with fake.lock:
                fake.run.fail_executions(body["job"], **_only(body, "message"))
            return _ok({})
        if route == ("POST", "/__fake/operations"):
            with fake.lock:
                fake.run.operations.polls_before_done = int(body.get("polls_before_done", 0))
                fake.artifacts.operations.polls_before_done = int(body.get("polls_before_done", 0))
            return _ok({})
        if route == ("POST", "/__fake/seed/secret"):
            with fake.lock:
                name = fake.secrets.seed(
                    body["project"],
                    body["secret_id"],
                    *body.get("values", []),
                    labels=body.get("labels"),
                    location=body.get("location"),
                )
            return _ok({"name": name})
        if route == ("POST", "/__fake/seed/sql-instance"):
            with fake.lock:
                fake.sql.add_instance(body["project"], body["instance"], tuple(body.get("databases", ["postgres"])))
            return _ok({})
        if route == ("POST", "/__fake/seed/repository"):
            with fake.lock:
                repo = fake.artifacts.add_repository(body["name"], **_only(body, "format"))
            return _ok(repo)
        if route == ("POST", "/__fake/seed/docker-image"):
            with fake.lock:
                image = fake.artifacts.add_docker_image(
                    body["repository"], body["image"], body.get("tags", []), body["digest"]
                )
            return _ok(image)
        if route == ("POST", "/__fake/seed/log-entries"):
            with fake.lock:
                fake.logging.add(body["entries"])
            return _ok({"count": len(fake.logging.entries)})
        if route == ("GET", "/__fake/state"):
            with fake.lock:
                return _ok(fake.state())
    except (KeyError, TypeError, ValueError) as exc:
        return _ok({"error": f"bad control request: {exc!r}"}, 400)
    return _ok({"error": f"no control endpoint {method} {path}"}, 404)


def _only(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: body[k] for k in keys if k in body}


def _faults(fake: FakeGCP, body: dict[str, Any]) -> None:
    kind = body.pop("kind")
    faults = fake.faults
    if kind == "fail":
        faults.fail(**body)
    elif kind == "fail_every":
        faults.fail_every(**body)
    elif kind == "drop_response":
        faults.drop_response(**body)
    elif kind == "latency":
        faults.latency(**body)
    elif kind == "clear":
        faults.clear()
    else:
        raise ValueError(f"unknown fault kind {kind!r}")


class FakeControl:
    """Python client of the control API, for tests that talk to a FakeGCP over HTTP (e.g. a subprocess)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> Any:
        resp = self.session.request(
            method, f"{self.base_url}/__fake/{path}", json=body, params=params, timeout=self.timeout
        )
        if resp.status_code != 200:
            raise RuntimeError(f"fakegcp control {method} {path}: {resp.status_code} {resp.text}")
        return resp.json()

    def calls(self, method_id: str | None = None) -> list[dict[str, Any]]:
        params = {"method_id": method_id} if method_id else None
        return list(self._call("GET", "calls", params=params)["calls"])

    def mutating_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.calls() if c["mutating"]]

    def reset_calls(self) -> None:
        self._call("DELETE", "calls")

    def reset(self) -> None:
        self._call("POST", "reset")

    def fail(
        self,
        method_id: str,
        status: int = 503,
        nth: int | None = None,
        times: int | None = 1,
        message: str | None = None,
    ) -> None:
        self._call(
            "POST",
            "faults",
            {
                "kind": "fail",
                "method_id": method_id,
                "status": status,
                "nth": nth,
                "times": times,
                "message": message,
            },
        )

    def fail_every(self, method_id: str | None, status: int = 503, every: int = 2, times: int | None = None) -> None:
        self._call(
            "POST",
            "faults",
            {"kind": "fail_every", "method_id": method_id, "status": status, "every": every, "times": times},
        )

    def drop_response(self, method_id: str, nth: int | None = None, times: int | None = 1) -> None:
        self._call("POST", "faults", {"kind": "drop_response", "method_id": method_id, "nth": nth, "times": times})

    def latency(self, seconds: float, method_id: str | None = None) -> None:
        self._call("POST", "faults", {"kind": "latency", "seconds": seconds, "method_id": method_id})

    def clear_faults(self) -> None:
        self._call("POST", "faults", {"kind": "clear"})

    def fail_revisions(self, service: str, message: str | None = None) -> None:
        self._call("POST", "readiness", {"service": service} | ({"message": message} if message else {}))

    def allow_revisions(self, service: str) -> None:
        self._call("POST", "readiness", {"service": service, "ready": True})

    def fail_executions(self, job: str, message: str | None = None) -> None:
        self._call("POST", "executions", {"job": job} | ({"message": message} if message else {}))

    def set_operation_polls(self, polls_before_done: int) -> None:
        self._call("POST", "operations", {"polls_before_done": polls_before_done})

    def seed_secret(self, project: str, secret_id: str, *values: str, labels: dict[str, str] | None = None) -> str:
        body = {"project": project, "secret_id": secret_id, "values": list(values), "labels": labels or {}}
        return str(self._call("POST", "seed/secret", body)["name"])

    def add_sql_instance(self, project: str, instance: str, databases: tuple[str, ...] = ("postgres",)) -> None:
        self._call(
            "POST", "seed/sql-instance", {"project": project, "instance": instance, "databases": list(databases)}
        )

    def add_repository(self, name: str, format: str = "DOCKER") -> dict[str, Any]:
        return dict(self._call("POST", "seed/repository", {"name": name, "format": format}))

    def add_docker_image(self, repository: str, image: str, tags: list[str], digest: str) -> dict[str, Any]:
        body = {"repository": repository, "image": image, "tags": tags, "digest": digest}
        return dict(self._call("POST", "seed/docker-image", body))

    def add_log_entries(self, entries: list[dict[str, Any]]) -> None:
        self._call("POST", "seed/log-entries", {"entries": entries})

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "state"))
