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
        token = static_token()
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


def static_token() -> str | None:
    """CLOUDSDK_AUTH_ACCESS_TOKEN stripped of surrounding whitespace (a token pasted into a CI secret often
    ends with a newline), registered with the redactor in every form before anything can print it, and
    refused (exit 2, without echoing it) when whitespace or control characters remain inside it: sent as
    is, an HTTP library would quote the whole Authorization header in its error."""
    raw = os.environ.get("CLOUDSDK_AUTH_ACCESS_TOKEN")
    if raw is None:
        return None
    from shipit.output import REDACTOR

    REDACTOR.register(raw)
    token = raw.strip()
    if not token:
        return None
    if any(c.isspace() or not c.isprintable() or not c.isascii() for c in token):
        from shipit.errors import UsageError

        raise UsageError(
            "CLOUDSDK_AUTH_ACCESS_TOKEN contains whitespace or control characters inside the token (not shown)",
            hint="set it to the bare token, e.g. the output of `gcloud auth print-access-token`",
        )
    # A docker login to Artifact Registry carries it base64-encoded after this user name.
    REDACTOR.register("oauth2accesstoken:" + token)
    return token


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
    REDACTOR.register("oauth2accesstoken:" + str(token))
    return str(token)
