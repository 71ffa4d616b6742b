"""Translate google.api_core errors into ShipitErrors that name the resource and the likely fix."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from shipit.errors import ConflictError, NotFound, RemoteError

T = TypeVar("T")

# The role that grants each API's write access, for permission-denied hints.
_ROLES = {
    "secretmanager": "roles/secretmanager.admin",
    "run": "roles/run.admin (and roles/iam.serviceAccountUser on the runtime service account)",
    "artifactregistry": "roles/artifactregistry.admin to create repositories, roles/artifactregistry.writer to push",
    "logging": "roles/logging.viewer",
    "cloudbuild": "roles/cloudbuild.builds.editor, roles/storage.objectCreator on the staging bucket and "
    "roles/iam.serviceAccountUser on the build service account",
    "sqladmin": "roles/cloudsql.admin",
}
_API_NAMES = {
    "secretmanager": "secretmanager.googleapis.com",
    "run": "run.googleapis.com",
    "artifactregistry": "artifactregistry.googleapis.com",
    "logging": "logging.googleapis.com",
    "cloudbuild": "cloudbuild.googleapis.com",
    "sqladmin": "sqladmin.googleapis.com",
}
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def _status(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return int(code) if isinstance(code, int) else None


def is_retryable(exc: BaseException) -> bool:
    import requests

    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    return _status(exc) in RETRYABLE_STATUS


def translate(exc: BaseException, *, api: str, action: str, resource: str) -> RemoteError:
    """``action`` and ``resource`` describe what failed: e.g. "add a version to", "secret acme-prod-KEY"."""
    import requests
    from google.api_core import exceptions as gexc

    what = f"could not {action} {resource}"
    from google.auth import exceptions as auth_exc

    if isinstance(exc, auth_exc.GoogleAuthError):
        # A 401 makes google-auth try to refresh; a static token (CLOUDSDK_AUTH_ACCESS_TOKEN) cannot be.
        return RemoteError(
            f"{what}: credentials rejected and not refreshable",
            hint="run `gcloud auth application-default login` or refresh CLOUDSDK_AUTH_ACCESS_TOKEN",
        )
    message = getattr(exc, "message", None) or str(exc)
    message = re.sub(r"\s+", " ", str(message)).strip()
    if isinstance(exc, requests.ConnectionError):
        return RemoteError(f"{what}: cannot reach the {api} API", hint="check the network or the endpoint override")
    # The REST transport raises the HTTP-level classes (Forbidden, Unauthorized, Conflict), the gRPC one
    # the RPC-level classes; accept both.
    if isinstance(exc, (gexc.Unauthenticated, gexc.Unauthorized)):
        return RemoteError(
            f"{what}: credentials rejected ({message})",
            hint="run `gcloud auth application-default login` or refresh CLOUDSDK_AUTH_ACCESS_TOKEN",
        )
    if isinstance(exc, (gexc.PermissionDenied, gexc.Forbidden)):
        if "SERVICE_DISABLED" in message or "has not been used" in message or "is disabled" in message:
            return RemoteError(
                f"{what}: the {_API_NAMES.get(api, api)} API is not enabled",
                hint=f"run `gcloud services enable {_API_NAMES.get(api, api)}` or `shipit infra apply`",
            )
        return RemoteError(f"{what}: permission denied ({message})", hint=f"grant {_ROLES.get(api, 'the needed role')}")
    if isinstance(exc, gexc.NotFound):
        return NotFound(f"{what}: not found ({message})")
    if isinstance(exc, (gexc.Aborted, gexc.PreconditionFailed)) or (
        isinstance(exc, gexc.Conflict) and ("etag" in message.lower() or "ABORTED" in message)
    ):
        return ConflictError(
            f"{what}: it was changed by someone else meanwhile ({message})", hint="re-run to plan against the new state"
        )
    if isinstance(exc, gexc.Conflict):
        return RemoteError(f"{what}: it already exists ({message})")
    if isinstance(exc, gexc.TooManyRequests):
        return RemoteError(f"{what}: quota exceeded after retries ({message})", hint="retry later or lower concurrency")
    if isinstance(exc, gexc.GoogleAPICallError):
        return RemoteError(f"{what}: {type(exc).__name__} {_status(exc) or ''} ({message})".replace(" ()", ""))
    return RemoteError(f"{what}: {type(exc).__name__}: {message}")


@contextmanager
def translated(*, api: str, action: str, resource: str) -> Iterator[None]:
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    try:
        yield
    except (gexc.GoogleAPIError, auth_exc.GoogleAuthError, OSError) as exc:
        raise translate(exc, api=api, action=action, resource=resource) from None
    except Exception as exc:
        import requests

        if isinstance(exc, requests.RequestException):
            raise translate(exc, api=api, action=action, resource=resource) from None
        raise


def with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 6,
    initial: float = 0.2,
    maximum: float = 5.0,
    sleep: Callable[[float], Any] | None = None,
) -> T:
    """Call ``fn`` again on 429/5xx and dropped connections, with exponential backoff and jitter.

    Only for idempotent calls, or writes whose caller re-checks state before retrying.
    """
    import random
    import time

    sleeper = sleep or time.sleep
    delay = initial
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            sleeper(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, maximum)
    raise AssertionError("unreachable")


def has_status(exc: BaseException | None, *codes: int) -> bool:
    code = getattr(exc, "code", None)
    return isinstance(code, int) and code in codes


class ResponseLost(Exception):
    """A write whose response was lost: the server may have applied it, so the caller re-reads first."""
