"""Credentials and endpoints, following gcloud's own conventions so CI setups carry over.

- A static token in CLOUDSDK_AUTH_ACCESS_TOKEN wins; else Application Default Credentials.
- Project: shipit.yaml, else CLOUDSDK_CORE_PROJECT, else the ADC project.
- Endpoints: CLOUDSDK_API_ENDPOINT_OVERRIDES_{RUN,SECRETMANAGER,ARTIFACTREGISTRY} (http:// works).
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlsplit

from shipit.errors import RemoteError

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_ENV_PREFIX = "CLOUDSDK_API_ENDPOINT_OVERRIDES_"
_lock = threading.Lock()
_cached: tuple[Any, str | None] | None = None


def endpoint_override(api: str) -> str | None:
    """The api_endpoint for a client ("run", "secretmanager", ...), or None for Google's default."""
    value = os.environ.get(_ENV_PREFIX + api.upper())
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return value.rstrip("/")


def credentials() -> tuple[Any, str | None]:
    """(credentials, project or None). Cached: ADC discovery can cost a metadata-server round trip."""
    global _cached
    with _lock:
        if _cached is not None:
            return _cached
        token = os.environ.get("CLOUDSDK_AUTH_ACCESS_TOKEN")
        if token:
            from google.oauth2.credentials import Credentials

            _cached = (
                Credentials(token=token),  # type: ignore[no-untyped-call]
                os.environ.get("CLOUDSDK_CORE_PROJECT"),
            )
            return _cached
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            creds, project = google.auth.default(scopes=list(SCOPES))
        except DefaultCredentialsError:
            raise RemoteError(
                "no Google credentials found",
                hint="run `gcloud auth application-default login`, or set CLOUDSDK_AUTH_ACCESS_TOKEN",
            ) from None
        _cached = (creds, os.environ.get("CLOUDSDK_CORE_PROJECT") or project)
        return _cached


def reset_cache() -> None:
    global _cached
    with _lock:
        _cached = None


def access_token() -> str:
    """An OAuth access token from the same credentials (for `docker login` to Artifact Registry)."""
    creds, _ = credentials()
    if not getattr(creds, "valid", False) or not getattr(creds, "token", None):
        import google.auth.transport.requests
        from google.auth.exceptions import RefreshError

        try:
            creds.refresh(google.auth.transport.requests.Request())
        except RefreshError as exc:
            raise RemoteError(
                f"could not get an access token: {exc}", hint="run `gcloud auth application-default login`"
            ) from None
    token = creds.token
    if not token:
        raise RemoteError("the credentials gave no access token")
    from shipit.output import REDACTOR

    REDACTOR.register(token)
    return str(token)
