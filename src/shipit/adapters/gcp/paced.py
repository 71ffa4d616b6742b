"""Cloud Run Admin API writes under the region's write quota (:mod:`shipit.pacing`), and what to do when the
quota was spent anyway (another deploy, gcloud, the console share it).

A 429 (RESOURCE_EXHAUSTED) means the server refused the write without applying it: wait with exponential
back-off and jitter (the quota refills over a minute), take a new token and send it again. A 5xx answer is
retried the same way with a short back-off, as every write of this adapter always was. A lost response is
never re-sent blindly: :class:`ResponseLost` makes the caller re-read what the server did.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, TypeVar

from shipit.adapters.gcp.errors import ResponseLost, has_status, is_retryable
from shipit.pacing import backoff, pace_write

T = TypeVar("T")

ATTEMPTS = 8
# Back-off after a 429: 2, 4, 8, 16, 30, 30, 30 s (each halved at random): about two quota windows in all.
QUOTA_BACKOFF = (2.0, 30.0)
SERVER_BACKOFF = (0.2, 5.0)


def paced_write(
    resource: str,
    fn: Callable[[], T],
    *,
    idempotent: bool = False,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], Any] = backoff,
) -> T:
    """``fn()`` (one write to ``resource``, ``projects/P/locations/R/...``) once the region's bucket allows it.

    ``idempotent``: sending it twice leaves the same state (setting an IAM policy), so a lost response is
    re-sent too instead of raising :class:`ResponseLost`."""
    import requests

    quota_delay, server_delay = QUOTA_BACKOFF[0], SERVER_BACKOFF[0]
    for attempt in range(1, attempts + 1):
        pace_write(resource)
        try:
            return fn()
        except Exception as exc:
            lost = isinstance(exc, (requests.ConnectionError, requests.Timeout))
            if lost and not idempotent:
                raise ResponseLost(str(exc)) from exc
            if attempt == attempts or not (lost or is_retryable(exc)):
                raise
            if has_status(exc, 429):
                sleep(quota_delay * (0.5 + random.random() / 2))
                quota_delay = min(quota_delay * 2, QUOTA_BACKOFF[1])
            else:
                sleep(server_delay * (0.5 + random.random() / 2))
                server_delay = min(server_delay * 2, SERVER_BACKOFF[1])
    raise AssertionError("unreachable")
