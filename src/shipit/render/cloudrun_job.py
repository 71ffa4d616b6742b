"""The desired Cloud Run Admin API v2 ``Job`` that runs one database's migration, as REST JSON.

Pure. The job's container and task settings are cut out of :func:`render_service`'s output for the
migrate service, so the migration sees exactly what that service's new revision sees: the same image,
env, secrets pinned to the same versions, secret files, Cloud SQL instances, VPC access, service
account and execution environment. What only a serving container has (ports, probes, request-time CPU
settings, args for the server process) is left out, and ``migrate.command`` replaces the entrypoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shipit.config.models import Migrate, Service
from shipit.names import MIGRATE_HASH_LABEL
from shipit.render.cloudrun import ServiceInputs, prune, render_service

# Task-level fields a migration shares with the service's revision.
_TASK_KEYS = ("volumes", "serviceAccount", "executionEnvironment", "vpcAccess")
_CONTAINER_KEYS = ("image", "env", "volumeMounts", "workingDir")


def _env_key(entry: Mapping[str, Any], stable: Mapping[str, str]) -> list[str]:
    name = str(entry.get("name", ""))
    ref = (entry.get("valueSource") or {}).get("secretKeyRef")
    if ref is not None:
        # The API may answer with the full secret name; the id is what identifies it. The version is left
        # out: a rotated secret (a new DATABASE_URL password) updates the job but does not re-run a
        # migration that already ran.
        return [name, "secret", str(ref.get("secret", "")).rsplit("/", 1)[-1]]
    return [name, "value", stable.get(name, str(entry.get("value", "")))]


def migration_hash(container: Mapping[str, Any], stable: Mapping[str, str] | None = None) -> str:
    """Fingerprint of what a migration runs: image, command, args and env (secrets by id, not version).

    ``stable``: env var name -> the value to fingerprint instead of the resolved one (a
    ``${services.X.url}`` template, whose URL is only known once X is deployed but never changes;
    such a variable counts even when the container leaves it out for now).
    Returned without the "sha256:" prefix, so it is a valid label value.
    """
    stable = stable or {}
    entries = list(container.get("env", []))
    # A variable left out until its URL is known counts as present: the template is what is fingerprinted.
    present = {e.get("name") for e in entries}
    entries += [{"name": name, "value": value} for name, value in stable.items() if name not in present]
    env = sorted(_env_key(e, stable) for e in entries)
    payload = {
        "image": container.get("image", ""),
        "command": list(container.get("command", [])),
        "args": list(container.get("args", [])),
        "env": env,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def render_job(
    service: Service,
    inputs: ServiceInputs,
    migrate: Migrate,
    *,
    labels: Mapping[str, str] | None = None,
    stable_env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Job spec (no output-only fields). Labels carry :data:`MIGRATE_HASH_LABEL`, on the job and its executions."""
    spec = render_service(service, inputs)
    template = spec["template"]
    served = template["containers"][0]
    container: dict[str, Any] = {k: served[k] for k in _CONTAINER_KEYS if k in served}
    limits = (served.get("resources") or {}).get("limits")
    if limits:
        container["resources"] = {"limits": dict(limits)}
    # The service's args are for its server process; the migrate command stands on its own.
    container["command"] = list(migrate.command)
    task: dict[str, Any] = {k: template[k] for k in _TASK_KEYS if k in template}
    task["containers"] = [container]
    task["timeout"] = f"{migrate.timeout}s"
    task = prune(task)
    # Set after pruning: 0 must be sent, or Cloud Run retries a failed migration 3 times.
    task["maxRetries"] = 0
    all_labels = {
        **(labels if labels is not None else inputs.labels),
        MIGRATE_HASH_LABEL: migration_hash(container, stable_env),
    }
    return {
        "labels": dict(all_labels),
        "template": {"labels": dict(all_labels), "taskCount": 1, "template": task},
    }
