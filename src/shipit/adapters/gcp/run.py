"""The one boundary to the Cloud Run Admin API v2 (services, revisions, IAM policies).

Everything crosses it as plain dicts in the REST JSON shape (camelCase, proto3 JSON), so the deploy
compares desired and live services field by field without any google type leaking out.
Reads are retried on 429/5xx. Writes are paced under the region's Cloud Run Admin API write quota
(:mod:`shipit.adapters.gcp.paced`), retried on 429/5xx answers (the server did not apply them) and re-checked
against the live state after a dropped connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.adapters.gcp.errors import ResponseLost, has_status, translated, with_retries
from shipit.adapters.gcp.paced import paced_write
from shipit.adapters.gcp.proto import json_format, to_dict
from shipit.errors import NotFound, RemoteError

if TYPE_CHECKING:
    from shipit.adapters.gcp.clients import GcpClients

Json = dict[str, Any]
# Cloud Run's own deadline for a rollout is 10 minutes per revision; allow it in full.
LRO_TIMEOUT = 900.0


@dataclass(frozen=True)
class WriteResult:
    """The service after a create/update finished. ``error``: why the rollout failed (LRO error)."""

    service: Json
    error: str | None = None


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _service_pb(body: Json) -> Any:
    from google.cloud import run_v2

    return run_v2.Service.from_json(json.dumps(body), ignore_unknown_fields=False)


class CloudRunClient:
    """Typed access to Cloud Run services, revisions and their IAM policies."""

    def __init__(self, clients: GcpClients) -> None:
        self._clients = clients

    @property
    def _services(self) -> Any:
        return self._clients.run_services

    @property
    def _revisions(self) -> Any:
        return self._clients.run_revisions

    @staticmethod
    def normalize(body: Json) -> Json:
        """The body as the API would echo it (enum names, durations, zero values dropped)."""
        return to_dict(_service_pb(body))

    # -- reads -----------------------------------------------------------------------------------
    def get_service(self, name: str) -> Json | None:
        try:
            with translated(api="run", action="read", resource=f"Cloud Run service {name.rsplit('/', 1)[-1]}"):
                return to_dict(with_retries(lambda: self._services.get_service(name=name)))
        except NotFound:
            return None

    def list_services(self, parent: str) -> list[Json]:
        with translated(api="run", action="list", resource=f"Cloud Run services in {parent}"):
            return with_retries(lambda: [to_dict(s) for s in self._services.list_services(parent=parent)])

    def list_revisions(self, service: str) -> list[Json]:
        with translated(api="run", action="list revisions of", resource=service.rsplit("/", 1)[-1]):
            return with_retries(lambda: [to_dict(r) for r in self._revisions.list_revisions(parent=service)])

    def get_revision(self, name: str) -> Json | None:
        try:
            with translated(api="run", action="read", resource=f"revision {name.rsplit('/', 1)[-1]}"):
                return to_dict(with_retries(lambda: self._revisions.get_revision(name=name)))
        except NotFound:
            return None

    def get_iam_policy(self, resource: str) -> Json:
        with translated(api="run", action="read the IAM policy of", resource=resource.rsplit("/", 1)[-1]):
            policy = with_retries(lambda: self._services.get_iam_policy(request={"resource": resource}))
        return to_dict(policy)

    # -- writes ----------------------------------------------------------------------------------
    def set_iam_policy(self, resource: str, policy: Json) -> Json:
        import importlib

        policy_pb2: Any = importlib.import_module("google.iam.v1.policy_pb2")
        pb = json_format().ParseDict(policy, policy_pb2.Policy())
        with translated(api="run", action="set the IAM policy of", resource=resource.rsplit("/", 1)[-1]):
            result = paced_write(
                resource,
                lambda: self._services.set_iam_policy(request={"resource": resource, "policy": pb}),
                idempotent=True,
            )
        return to_dict(result)

    def create_service(self, parent: str, service_id: str, body: Json) -> WriteResult:
        pb = _service_pb(body)
        return self._writes.create(
            f"{parent}/services/{service_id}",
            lambda: self._services.create_service(parent=parent, service=pb, service_id=service_id),
        )

    def update_service(self, body: Json) -> WriteResult:
        """Replace the service's spec; ``body["etag"]`` guards against concurrent changes."""
        pb = _service_pb(body)
        return self._writes.update(body["name"], lambda: self._services.update_service(service=pb))

    def delete_service(self, name: str) -> bool:
        """Delete the service (its revisions and IAM policy go with it). False when it was already gone."""
        from shipit.adapters.gcp.deletes import delete_and_wait

        return delete_and_wait(
            lambda: self._services.delete_service(name=name), api="run", resource=f"Cloud Run service {_short(name)}"
        )

    def delete_revision(self, name: str) -> None:
        """Delete a revision and wait for it to go; one already gone counts as deleted."""
        try:
            with translated(api="run", action="delete", resource=f"revision {name.rsplit('/', 1)[-1]}"):
                op = paced_write(name, lambda: self._revisions.delete_revision(name=name), idempotent=True)
                op.result(timeout=LRO_TIMEOUT)
        except NotFound:
            return

    @property
    def _writes(self) -> RolloutWrites:
        return RolloutWrites("service", self.get_service)


@dataclass(frozen=True)
class RolloutWrites:
    """Creating or replacing a Cloud Run resource whose write is a rollout (a service, a worker pool): paced
    under the region's write quota, retried when the server answered 429/5xx, re-read when the answer was lost
    (or a retried create met its own first attempt: 409), then the long-running operation awaited until the new
    revision is Ready or has failed."""

    kind: str  # "service", "worker pool"
    get: Callable[[str], Json | None]

    def _resource(self, name: str) -> str:
        return f"Cloud Run {self.kind} {name.rsplit('/', 1)[-1]}"

    def create(self, name: str, call: Callable[[], Any]) -> WriteResult:
        try:
            with translated(api="run", action="create", resource=self._resource(name)):
                op = paced_write(name, call)
        except ResponseLost:
            return self._after_drop(name)
        except RemoteError as exc:
            if not has_status(exc.__context__ or exc, 409):
                raise
            return self._after_drop(name)  # an earlier attempt created it
        return self._finish(op, name)

    def update(self, name: str, call: Callable[[], Any]) -> WriteResult:
        try:
            with translated(api="run", action="update", resource=self._resource(name)):
                op = paced_write(name, call)
        except ResponseLost:
            return self._after_drop(name)
        return self._finish(op, name)

    def _finish(self, op: Any, name: str) -> WriteResult:
        from google.api_core import exceptions as gexc

        with translated(api="run", action="wait for", resource=self._resource(name)):
            try:
                result = op.result(timeout=LRO_TIMEOUT)
            except gexc.GoogleAPICallError as exc:
                # The operation finished with an error: the rollout failed, the resource exists.
                return WriteResult(self._must_get(name), getattr(exc, "message", None) or str(exc))
        return WriteResult(to_dict(result))

    def _after_drop(self, name: str) -> WriteResult:
        """The response was lost: read what the server did. The caller re-diffs and decides."""
        live = self._must_get(name)
        if live.get("reconciling"):
            raise RemoteError(
                f"lost the response while updating {self._resource(name)}; it is still rolling out", hint="re-run"
            )
        cond = live.get("terminalCondition") or {}
        failed = cond.get("state") == "CONDITION_FAILED"
        return WriteResult(live, str(cond.get("message") or f"the {self.kind} is not ready") if failed else None)

    def _must_get(self, name: str) -> Json:
        live = self.get(name)
        if live is None:
            raise RemoteError(f"{self._resource(name)} disappeared during the deploy")
        return live


def identity_token(audience: str) -> str | None:
    """An OIDC identity token for calling a private Cloud Run URL, or None when the credentials cannot mint one."""
    try:
        import google.auth.transport.requests
        from google.oauth2 import id_token

        token = id_token.fetch_id_token(google.auth.transport.requests.Request(), audience)  # type: ignore[no-untyped-call]
    except Exception:  # no service account / metadata server: call without a token
        return None
    if not token:
        return None
    from shipit.output import REDACTOR

    REDACTOR.register(str(token))
    return str(token)
