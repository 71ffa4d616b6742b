"""The one boundary to Cloud Run Admin API v2 worker pools (background workloads with no URL).

Like :mod:`shipit.adapters.gcp.run` for services: specs cross as plain dicts in the REST JSON shape;
reads are retried on 429/5xx; writes are retried when the server answered 429/5xx and re-read after a
dropped connection; a write waits for its long-running operation (the new revision Ready, or failed).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shipit.adapters.gcp.errors import translated, with_retries
from shipit.adapters.gcp.proto import to_dict
from shipit.adapters.gcp.run import RolloutWrites, WriteResult
from shipit.errors import NotFound

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
        try:
            with translated(api="run", action="read", resource=f"Cloud Run worker pool {_short(name)}"):
                return to_dict(with_retries(lambda: self._pools.get_worker_pool(name=name)))
        except NotFound:
            return None

    def list_worker_pools(self, parent: str) -> list[Json]:
        with translated(api="run", action="list", resource=f"Cloud Run worker pools in {parent}"):
            return with_retries(lambda: [to_dict(p) for p in self._pools.list_worker_pools(parent=parent)])

    def list_revisions(self, pool: str) -> list[Json]:
        """The worker pool's revisions (for `shipit rollback`)."""
        with translated(api="run", action="list revisions of", resource=f"worker pool {_short(pool)}"):
            revisions = self._clients.run_revisions
            return with_retries(lambda: [to_dict(r) for r in revisions.list_revisions(parent=pool)])

    def create_worker_pool(self, parent: str, pool_id: str, body: Json) -> WriteResult:
        pb = _pool_pb(body)
        return self._writes.create(
            f"{parent}/workerPools/{pool_id}",
            lambda: self._pools.create_worker_pool(parent=parent, worker_pool=pb, worker_pool_id=pool_id),
        )

    def update_worker_pool(self, body: Json) -> WriteResult:
        """Replace the worker pool's spec; ``body["etag"]`` guards against concurrent changes."""
        pb = _pool_pb(body)
        return self._writes.update(body["name"], lambda: self._pools.update_worker_pool(worker_pool=pb))

    def delete_worker_pool(self, name: str) -> bool:
        """Delete the worker pool and its revisions. False when it was already gone."""
        from shipit.adapters.gcp.deletes import delete_and_wait

        return delete_and_wait(
            lambda: self._pools.delete_worker_pool(name=name),
            api="run",
            resource=f"Cloud Run worker pool {_short(name)}",
        )

    @property
    def _writes(self) -> RolloutWrites:
        return RolloutWrites("worker pool", self.get_worker_pool)
