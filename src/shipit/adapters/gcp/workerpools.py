"""The one boundary to Cloud Run Admin API v2 worker pools (background workloads with no URL).

Like :mod:`shipit.adapters.gcp.run` for services: specs cross as plain dicts in the REST JSON shape;
reads are retried on 429/5xx; writes are retried when the server answered 429/5xx and re-read after a
dropped connection; a write waits for its long-running operation (the new revision Ready, or failed).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shipit.adapters.gcp.errors import ResponseLost, has_status, retry_answered_writes, translated, with_retries
from shipit.adapters.gcp.proto import to_dict
from shipit.adapters.gcp.run import LRO_TIMEOUT, WriteResult
from shipit.errors import RemoteError

if TYPE_CHECKING:
    from shipit.adapters.gcp.clients import GcpClients

Json = dict[str, Any]


def _pool_pb(body: Json) -> Any:
    from google.cloud import run_v2

    return run_v2.WorkerPool.from_json(json.dumps(body), ignore_unknown_fields=False)


def _short(name: str) -> str:
    return name.rsplit("/", 1)[-1]


class WorkerPoolClient:
    """Typed access to Cloud Run worker pools. ``WriteResult.service`` holds the worker pool."""

    def __init__(self, clients: GcpClients) -> None:
        self._clients = clients

    @property
    def _pools(self) -> Any:
        return self._clients.run_worker_pools

    @staticmethod
    def normalize(body: Json) -> Json:
        """The body as the API would echo it (enum names, zero values dropped)."""
        out = to_dict(_pool_pb(body))
        # manualInstanceCount is a proto3 `optional` field: an explicit 0 (a stopped pool) is kept.
        count = (body.get("scaling") or {}).get("manualInstanceCount")
        if count == 0:
            out.setdefault("scaling", {})["manualInstanceCount"] = 0
        return out

    def get_worker_pool(self, name: str) -> Json | None:
        from google.api_core import exceptions as gexc

        try:
            with translated(api="run", action="read", resource=f"Cloud Run worker pool {_short(name)}"):
                return to_dict(with_retries(lambda: self._pools.get_worker_pool(name=name)))
        except RemoteError as exc:
            if isinstance(exc.__context__, gexc.NotFound) or "not found" in exc.message:
                return None
            raise

    def list_worker_pools(self, parent: str) -> list[Json]:
        with translated(api="run", action="list", resource=f"Cloud Run worker pools in {parent}"):
            return with_retries(lambda: [to_dict(p) for p in self._pools.list_worker_pools(parent=parent)])

    def create_worker_pool(self, parent: str, pool_id: str, body: Json) -> WriteResult:
        name = f"{parent}/workerPools/{pool_id}"
        resource = f"Cloud Run worker pool {pool_id}"
        pb = _pool_pb(body)
        try:
            with translated(api="run", action="create", resource=resource):
                op = retry_answered_writes(
                    lambda: self._pools.create_worker_pool(parent=parent, worker_pool=pb, worker_pool_id=pool_id)
                )
        except ResponseLost:
            return self._after_drop(name, resource)
        except RemoteError as exc:
            if not has_status(exc.__context__ or exc, 409):
                raise
            return self._after_drop(name, resource)  # an earlier attempt created it
        return self._finish(op, name, resource)

    def update_worker_pool(self, body: Json) -> WriteResult:
        """Replace the worker pool's spec; ``body["etag"]`` guards against concurrent changes."""
        name = body["name"]
        resource = f"Cloud Run worker pool {_short(name)}"
        pb = _pool_pb(body)
        try:
            with translated(api="run", action="update", resource=resource):
                op = retry_answered_writes(lambda: self._pools.update_worker_pool(worker_pool=pb))
        except ResponseLost:
            return self._after_drop(name, resource)
        return self._finish(op, name, resource)

    def _finish(self, op: Any, name: str, resource: str) -> WriteResult:
        from google.api_core import exceptions as gexc

        with translated(api="run", action="wait for", resource=resource):
            try:
                result = op.result(timeout=LRO_TIMEOUT)
            except gexc.GoogleAPICallError as exc:
                # The operation finished with an error: the rollout failed, the worker pool exists.
                return WriteResult(self._must_get(name), getattr(exc, "message", None) or str(exc))
        return WriteResult(to_dict(result))

    def _after_drop(self, name: str, resource: str) -> WriteResult:
        pool = self._must_get(name)
        if pool.get("reconciling"):
            raise RemoteError(f"lost the response while updating {resource}; it is still rolling out", hint="re-run")
        cond = pool.get("terminalCondition") or {}
        failed = cond.get("state") == "CONDITION_FAILED"
        return WriteResult(pool, str(cond.get("message") or "not ready") if failed else None)

    def _must_get(self, name: str) -> Json:
        pool = self.get_worker_pool(name)
        if pool is None:
            raise RemoteError(f"Cloud Run worker pool {_short(name)} disappeared during the deploy")
        return pool
