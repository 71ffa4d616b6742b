"""Read-only project checks for `shipit doctor`: enabled APIs and the caller's permissions.

These two APIs have no client library among shipit's dependencies; their REST surface is two calls,
made through google-auth's AuthorizedSession with the same credentials and endpoint overrides.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shipit.adapters.gcp.auth import credentials, endpoint_override
from shipit.adapters.gcp.errors import translated, with_retries


def _session() -> Any:
    from google.auth.transport.requests import AuthorizedSession

    creds, _ = credentials()
    return AuthorizedSession(creds)  # type: ignore[no-untyped-call]


def _raise_for_status(response: Any) -> Any:
    from google.api_core import exceptions

    if response.status_code >= 400:
        raise exceptions.from_http_response(response)  # type: ignore[no-untyped-call]
    return response.json()


def enabled_services(project: str) -> set[str]:
    base = endpoint_override("serviceusage") or "https://serviceusage.googleapis.com"
    session = _session()
    names: set[str] = set()
    token = ""
    with translated(api="serviceusage", action="list the enabled APIs of", resource=f"project {project}"):
        while True:
            params = {"filter": "state:ENABLED", "pageSize": "200", **({"pageToken": token} if token else {})}

            def call(params: dict[str, str] = params) -> Any:
                return _raise_for_status(
                    session.get(f"{base}/v1/projects/{project}/services", params=params, timeout=30)
                )

            data = with_retries(call)
            names.update(s["config"]["name"] for s in data.get("services", []))
            token = data.get("nextPageToken", "")
            if not token:
                return names


def missing_permissions(project: str, permissions: Iterable[str]) -> list[str]:
    wanted = sorted(set(permissions))
    base = endpoint_override("cloudresourcemanager") or "https://cloudresourcemanager.googleapis.com"
    session = _session()
    with translated(api="cloudresourcemanager", action="test permissions on", resource=f"project {project}"):
        data = with_retries(
            lambda: _raise_for_status(
                session.post(
                    f"{base}/v1/projects/{project}:testIamPermissions", json={"permissions": wanted}, timeout=30
                )
            )
        )
    granted = set(data.get("permissions", []))
    return [p for p in wanted if p not in granted]
