"""The desired Cloud Run Admin API v2 ``WorkerPool`` of one worker (``kind: worker``), as REST JSON.

Pure. A worker pool's revision template is a service's without what serves requests: the container,
env, secrets, volumes, Cloud SQL instances, service account and Direct VPC egress come out of
:func:`render_service` exactly as a service would get them; ports, the default TCP startup probe,
request timeout, concurrency, request-time CPU settings and ingress are left out. Its size is a fixed
instance count (``scaling.manualInstanceCount``), not request-driven autoscaling.
"""

from __future__ import annotations

from typing import Any

from shipit.config.models import Service
from shipit.render.cloudrun import RenderError, ServiceInputs, prune, render_service

LATEST = "INSTANCE_SPLIT_ALLOCATION_TYPE_LATEST"
REVISION = "INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION"
DEFAULT_INSTANCES = 1
_TEMPLATE_KEYS = ("labels", "serviceAccount", "containers", "volumes", "vpcAccess")
_CONTAINER_KEYS = ("image", "command", "args", "env", "volumeMounts")


def instances(service: Service) -> int:
    count = service.cloud_run.instances
    return DEFAULT_INSTANCES if count is None else count


def render_worker_pool(service: Service, inputs: ServiceInputs) -> dict[str, Any]:
    """The WorkerPool spec (no output-only fields, no instance splits: the deploy decides those)."""
    if inputs.vpc is not None and inputs.vpc.connector:
        raise RenderError(
            "cloud_run.vpc: worker pools support Direct VPC egress only, not a VPC connector (set vpc: {mode: direct})"
        )
    served = render_service(service, inputs)["template"]
    container = {k: v for k, v in served["containers"][0].items() if k in _CONTAINER_KEYS}
    limits = (served["containers"][0].get("resources") or {}).get("limits")
    if limits:
        container["resources"] = {"limits": dict(limits)}
    probes = service.cloud_run.probes
    if probes.startup is not None:
        container["startupProbe"] = served["containers"][0].get("startupProbe")
    if probes.liveness is not None:
        container["livenessProbe"] = served["containers"][0].get("livenessProbe")
    template = {k: served[k] for k in _TEMPLATE_KEYS if k in served and k != "containers"}
    template["containers"] = [container]
    spec: dict[str, Any] = prune({"labels": dict(inputs.labels), "template": template})
    # Set after pruning: 0 (a stopped pool) must be sent, not dropped like a proto3 default.
    spec["scaling"] = {"manualInstanceCount": instances(service)}
    return spec


def settled_split() -> list[dict[str, Any]]:
    """All instances on the latest ready revision: where every finished deploy leaves a worker pool."""
    return [{"type": LATEST, "percent": 100}]
