"""What the Cloud Run steps need from the outside world, so tests can inject their own.

:class:`RunApi` (defined with the other remote Protocols in :mod:`shipit.remote`, reached as
``ctx.remote.run``) is implemented by :class:`shipit.adapters.gcp.run.CloudRunClient` and by in-memory
fakes in unit tests. :data:`HealthChecker` is any callable that checks a URL; the default one uses
``requests``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shipit.remote import Json, RunApi

if TYPE_CHECKING:
    from shipit.adapters.gcp.run import WriteResult

__all__ = ["HealthChecker", "HealthResult", "Json", "OfflineRun", "RunApi", "http_health_check"]


@dataclass(frozen=True)
class HealthResult:
    ok: bool
    detail: str


HealthChecker = Callable[[str, str, float], HealthResult]
# Test-only: send health checks to this base URL (keeping the Cloud Run host in the Host header),
# because *.run.app URLs of a fake API are not reachable.
URL_OVERRIDE_ENV = "SHIPIT_HEALTH_CHECK_URL_OVERRIDE"


def http_health_check(url: str, path: str, timeout: float) -> HealthResult:
    """GET url+path until a 2xx/3xx answer or ``timeout`` seconds have passed (new revisions warm up)."""
    import requests

    target = url.rstrip("/") + path
    headers: dict[str, str] = {}
    override = os.environ.get(URL_OVERRIDE_ENV)
    if override:
        headers["Host"] = urlsplit(url).netloc
        target = override.rstrip("/") + path
    else:
        from shipit.adapters.gcp.run import identity_token

        token = identity_token(url)
        if token:
            headers["Authorization"] = f"Bearer {token}"
    deadline = time.monotonic() + timeout
    detail = "no answer"
    delay = 0.5
    while True:
        try:
            response = requests.get(target, headers=headers, timeout=min(10.0, timeout), allow_redirects=False)
            if response.status_code < 400:
                return HealthResult(True, f"HTTP {response.status_code}")
            detail = f"HTTP {response.status_code}"
        except requests.RequestException as exc:
            detail = type(exc).__name__
        if time.monotonic() + delay > deadline:
            return HealthResult(False, detail)
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


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
