"""The desired Cloud Run Admin API v2 ``Job`` of one ``jobs:`` entry, as REST JSON.

Pure. Like the migration job (:mod:`shipit.render.cloudrun_job`), the container and task settings are
cut out of :func:`render_service`'s output, so a job sees its env, secrets pinned to the synced
versions, Cloud SQL instances, VPC access and service account exactly as a service would; what only a
serving container has (ports, probes, request-time CPU settings) is left out.
"""

from __future__ import annotations

from typing import Any

from shipit.config.jobs import Job
from shipit.config.models import CloudRun, Service
from shipit.render.cloudrun import ServiceInputs, prune, render_service

_TASK_KEYS = ("volumes", "serviceAccount", "vpcAccess")
_CONTAINER_KEYS = ("image", "command", "args", "env", "volumeMounts")


def job_as_service(job: Job) -> Service:
    """The job's settings in the shape the shared input resolution and rendering take."""
    return Service(
        image=job.image,
        build=None,
        env=job.env,
        secrets=job.secrets,
        databases=job.databases,
        caches=job.caches,
        cloud_run=CloudRun(cpu=job.cpu, memory=job.memory, command=job.command, args=job.args, vpc=job.vpc),
    )


def render_app_job(job: Job, inputs: ServiceInputs) -> dict[str, Any]:
    """The Job spec (no output-only fields)."""
    template = render_service(job_as_service(job), inputs)["template"]
    served = template["containers"][0]
    container: dict[str, Any] = {k: served[k] for k in _CONTAINER_KEYS if k in served}
    limits = (served.get("resources") or {}).get("limits")
    if limits:
        container["resources"] = {"limits": dict(limits)}
    task: dict[str, Any] = {k: template[k] for k in _TASK_KEYS if k in template}
    task["containers"] = [container]
    task["timeout"] = f"{job.timeout}s"
    task = prune(task)
    # Set after pruning: 0 (no retry) must be sent, or Cloud Run retries a failed task 3 times.
    task["maxRetries"] = job.max_retries
    execution: dict[str, Any] = {"labels": dict(inputs.labels), "taskCount": job.tasks, "template": task}
    if job.parallelism:
        execution["parallelism"] = job.parallelism
    return {"labels": dict(inputs.labels), "template": execution}
