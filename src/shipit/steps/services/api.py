"""What the Cloud Run steps need from the outside world, and the offline stand-in for it.

:class:`RunApi` (defined with the other remote Protocols in :mod:`shipit.remote`, reached as
``ctx.remote.run``) is implemented by :class:`shipit.adapters.gcp.run.CloudRunClient` and by in-memory
fakes in unit tests. :data:`HealthChecker` (``ctx.remote.health``) is any callable that checks a URL;
the default one, :func:`shipit.adapters.health.http_health_check`, uses ``requests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipit.adapters.health import HealthChecker, HealthResult, http_health_check
from shipit.remote import Json, RunApi

if TYPE_CHECKING:
    from shipit.adapters.gcp.run import WriteResult

__all__ = ["HealthChecker", "HealthResult", "Json", "OfflineRun", "RunApi", "http_health_check"]


class OfflineRun:
    """An empty project that answers without any call, for `shipit plan --offline`; it refuses writes."""

    def normalize(self, body: Json) -> Json:
        return body

    def get_service(self, name: str) -> Json | None:
        return None

    def list_services(self, parent: str) -> list[Json]:
        return []

    def list_revisions(self, service: str) -> list[Json]:
        return []

    def get_revision(self, name: str) -> Json | None:
        return None

    def get_iam_policy(self, resource: str) -> Json:
        return {}

    def _refuse(self) -> Any:
        from shipit.errors import UsageError

        raise UsageError("an offline plan cannot be applied", hint="run without --offline")

    def set_iam_policy(self, resource: str, policy: Json) -> Json:
        return self._refuse()  # type: ignore[no-any-return]

    def create_service(self, parent: str, service_id: str, body: Json) -> WriteResult:
        return self._refuse()  # type: ignore[no-any-return]

    def update_service(self, body: Json) -> WriteResult:
        return self._refuse()  # type: ignore[no-any-return]

    def delete_service(self, name: str) -> bool:
        return self._refuse()  # type: ignore[no-any-return]

    def delete_revision(self, name: str) -> None:
        self._refuse()
