"""What the workers step needs from Cloud Run: worker pools (``ctx.remote.worker_pools``), and the
offline stand-in `shipit plan --offline` uses.

Implemented by :class:`shipit.adapters.gcp.workerpools.WorkerPoolClient`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipit.remote import WorkerPoolsApi

if TYPE_CHECKING:
    from shipit.adapters.gcp.run import WriteResult

Json = dict[str, Any]
# The Protocol lives with the other clients on the remote boundary (``ctx.remote.worker_pools``).
WorkerPoolApi = WorkerPoolsApi


class OfflineWorkerPools:
    """An empty project that answers without any call, for `shipit plan --offline`; it refuses writes."""

    def normalize(self, body: Json) -> Json:
        return body

    def get_worker_pool(self, name: str) -> Json | None:
        return None

    def list_worker_pools(self, parent: str) -> list[Json]:
        return []

    def list_revisions(self, pool: str) -> list[Json]:
        return []

    def _refuse(self) -> Any:
        from shipit.errors import UsageError

        raise UsageError("an offline plan cannot be applied", hint="run without --offline")

    def create_worker_pool(self, parent: str, pool_id: str, body: Json) -> WriteResult:
        return self._refuse()  # type: ignore[no-any-return]

    def update_worker_pool(self, body: Json) -> WriteResult:
        return self._refuse()  # type: ignore[no-any-return]

    def delete_worker_pool(self, name: str) -> bool:
        return self._refuse()  # type: ignore[no-any-return]
