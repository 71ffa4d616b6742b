"""HTTP health checks of a deployed URL (a revision's tagged URL, a service's URL).

A :data:`HealthChecker` is any callable ``(url, path, timeout) -> HealthResult``; steps reach the one
in use as ``ctx.remote.health`` (tests pass their own).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


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
