"""Deleting a Google Cloud resource whose delete is a long-running operation, idempotently.

A delete is safe to retry: a second attempt after a lost answer meets a 404, and a 404 means the
resource is gone, which is what was asked (an interrupted `shipit destroy` re-run relies on it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shipit.adapters.gcp.errors import translated, with_retries

# Deleting a Cloud Run service or an Artifact Registry repository usually takes seconds.
DELETE_TIMEOUT = 600.0


def delete_and_wait(call: Callable[[], Any], *, api: str, resource: str, timeout: float = DELETE_TIMEOUT) -> bool:
    """Run ``call`` (a delete returning an operation) and wait for it. False when it was already gone."""
    from google.api_core import exceptions as gexc

    with translated(api=api, action="delete", resource=resource):
        try:
            operation = with_retries(call)
            if operation is not None and hasattr(operation, "result"):
                operation.result(timeout=timeout)
        except gexc.NotFound:
            return False
    return True
