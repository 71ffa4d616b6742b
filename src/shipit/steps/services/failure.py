"""Why a Cloud Run revision did not become Ready, in words a user can act on.

Cloud Run reports failures as revision conditions (Ready, ContainerHealthy, ResourcesAvailable) with
long messages. These rules turn the common ones into the cause and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Failure:
    cause: str
    fix: str
    detail: str  # Cloud Run's own words, for the curious

    def render(self) -> str:
        return f"{self.cause}; {self.fix}"


def _messages(revision: Mapping[str, Any] | None, fallback: str | None) -> str:
    parts = []
    for cond in (revision or {}).get("conditions", []) or []:
        if cond.get("state") == "CONDITION_FAILED" and cond.get("message"):
            parts.append(str(cond["message"]))
        for key in ("reason", "revisionReason"):
            if cond.get("state") == "CONDITION_FAILED" and cond.get(key):
                parts.append(str(cond[key]))
    if fallback:
        parts.append(fallback)
    return " ".join(dict.fromkeys(parts))


def explain(
    revision: Mapping[str, Any] | None,
    *,
    port: int,
    image: str,
    service_account: str | None,
    fallback: str | None = None,
) -> Failure:
    """Translate the failed revision's conditions (or the operation's error when it has none)."""
    text = _messages(revision, fallback)
    low = text.lower()
    account = service_account or "the default compute service account"
    rid = (revision or {}).get("name", "").rsplit("/", 1)[-1] or "the new revision"
    logs = (revision or {}).get("logUri")
    see_logs = f" (logs: {logs})" if logs else ""
    secret = re.search(r"secrets?/([A-Za-z0-9_-]+)", text) or re.search(r"[Ss]ecret '?([A-Za-z0-9_-]+)'?", text)
    secret_name = secret.group(1) if secret else "a secret"
    if "secret" in low and ("permission" in low or "denied" in low or "accessor" in low):
        return Failure(
            f"{rid}: {account} may not read {secret_name}",
            "grant it roles/secretmanager.secretAccessor on that secret (`shipit infra apply` does this for the "
            "per-service accounts)",
            text,
        )
    if "secret" in low and ("not found" in low or "does not exist" in low or "version" in low):
        return Failure(
            f"{rid}: {secret_name} or the pinned version does not exist",
            "sync the secrets first (`shipit secrets sync`) and deploy again",
            text,
        )
    if ("image" in low or "manifest" in low) and (
        "not found" in low or "denied" in low or "permission" in low or "unknown" in low or "pull" in low
    ):
        return Failure(
            f"{rid}: image {image} was not found, or Cloud Run may not pull it",
            "push the image (`shipit deploy` pushes it) and check that the Cloud Run service agent has "
            "roles/artifactregistry.reader on the repository",
            text,
        )
    if "startup probe" in low or "startupprobe" in low or ("probe" in low and "fail" in low):
        return Failure(
            f"{rid}: the startup probe failed{see_logs}",
            "check that the probe's path and port answer once the app has started, or give it more time with "
            "cloud_run.probes.startup.initial_delay / failure_threshold",
            text,
        )
    if "listen on the port" in low or "port=" in low or "health_check_container_error" in low:
        return Failure(
            f"{rid}: the container did not start listening on port {port} in time{see_logs}",
            f"make the server listen on 0.0.0.0:$PORT (Cloud Run sets PORT={port}), or set `port:` in shipit.yaml "
            "to the port it listens on; a slow start needs a startup probe with more time",
            text,
        )
    if "exit" in low or "crash" in low:
        return Failure(
            f"{rid}: the container exited while starting{see_logs}",
            "read the revision's logs; a missing environment variable or failing migration is the usual cause",
            text,
        )
    if "memory" in low and "limit" in low:
        return Failure(
            f"{rid}: the container ran out of memory{see_logs}", "raise cloud_run.memory in shipit.yaml", text
        )
    return Failure(f"{rid} did not become ready{see_logs}", "see Cloud Run's message: " + (text or "(none)"), text)
