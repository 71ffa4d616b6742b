"""The desired Cloud Run Admin API v2 ``Service`` of one shipit service, as REST JSON (camelCase).

Pure: config + resolved inputs in, dict out. The dict is already in the shape the API returns
(proto3 JSON: zero values, ``false`` and empty lists omitted), so it can be compared field by field
with the live service. docs/gcloud-equivalence.md maps every field to its `gcloud run deploy` flag.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shipit.config.models import Probe, Service
from shipit.config.types import cpu_count
from shipit.names import GIT_SHA_LABEL, RELEASE_LABEL

# Labels that change on every release: they are written with a real change, never a reason for one.
VOLATILE_LABELS = frozenset({RELEASE_LABEL, GIT_SHA_LABEL})

INGRESS = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
}
EGRESS = {"private-ranges-only": "PRIVATE_RANGES_ONLY", "all-traffic": "ALL_TRAFFIC"}
EXECUTION_ENVIRONMENT = {"gen1": "EXECUTION_ENVIRONMENT_GEN1", "gen2": "EXECUTION_ENVIRONMENT_GEN2"}
LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
CLOUDSQL_VOLUME = "cloudsql"
CLOUDSQL_MOUNT = "/cloudsql"


@dataclass(frozen=True)
class SecretRef:
    """A Secret Manager secret pinned to one version ("3"), or "latest" when nothing was synced."""

    secret: str
    version: str

    def display(self) -> str:
        return f"secret {self.secret} version {self.version}"


@dataclass(frozen=True)
class VpcAccess:
    egress: str  # "private-ranges-only" | "all-traffic"
    connector: str | None = None
    network: str | None = None
    subnetwork: str | None = None


@dataclass(frozen=True)
class ServiceInputs:
    """Everything the deploy knows besides shipit.yaml: results of earlier steps, already resolved."""

    image: str
    env: Mapping[str, str] = field(default_factory=dict)  # plain variables, references substituted
    secret_env: Mapping[str, SecretRef] = field(default_factory=dict)  # env var name -> secret
    secret_files: Mapping[str, SecretRef] = field(default_factory=dict)  # absolute file path -> secret
    service_account: str | None = None
    vpc: VpcAccess | None = None
    cloudsql_instances: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


class RenderError(ValueError):
    """The config cannot be expressed as a Cloud Run service (e.g. two secrets in one directory)."""


def cpu_limit(value: str) -> str:
    """Cloud Run's canonical form: whole CPUs as "2", fractions as millicores "500m"."""
    cpus = cpu_count(value)
    return str(int(cpus)) if cpus >= 1 and cpus == int(cpus) else f"{round(cpus * 1000)}m"


def _probe(probe: Probe, port: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "initialDelaySeconds": probe.initial_delay,
        "timeoutSeconds": probe.timeout,
        "periodSeconds": probe.period,
        "failureThreshold": probe.failure_threshold,
    }
    target_port = probe.port or port
    if probe.type == "http":
        out["httpGet"] = {"path": probe.path, "port": target_port}
    elif probe.type == "tcp":
        out["tcpSocket"] = {"port": target_port}
    else:
        out["grpc"] = {"port": target_port}
    return out


def default_startup_probe(port: int) -> dict[str, Any]:
    """What Cloud Run applies when no startup probe is given; rendered so that removing one is a diff."""
    return {"timeoutSeconds": 240, "periodSeconds": 240, "failureThreshold": 1, "tcpSocket": {"port": port}}


def _volume_name(directory: str) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in directory.lower()).strip("-")
    return ("secret-" + slug)[:63].rstrip("-") or "secret"


def _secret_volumes(files: Mapping[str, SecretRef]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One volume per directory (Cloud Run mounts whole directories), each file an item of the volume."""
    by_dir: dict[str, list[tuple[str, SecretRef]]] = {}
    for path in sorted(files):
        directory, filename = posixpath.split(path)
        by_dir.setdefault(directory, []).append((filename, files[path]))
    volumes, mounts = [], []
    for directory, items in sorted(by_dir.items()):
        secrets = {ref.secret for _, ref in items}
        if len(secrets) > 1:
            raise RenderError(
                f"secret_files: {directory} would hold files from {len(secrets)} different secrets; Cloud Run "
                "mounts one secret per directory (put each secret's file in its own directory)"
            )
        name = _volume_name(directory)
        volumes.append(
            {
                "name": name,
                "secret": {
                    "secret": items[0][1].secret,
                    "items": [{"path": filename, "version": ref.version} for filename, ref in items],
                },
            }
        )
        mounts.append({"name": name, "mountPath": directory})
    return volumes, mounts


def render_service(service: Service, inputs: ServiceInputs) -> dict[str, Any]:
    """The Service spec (no output-only fields, no traffic: the deploy decides traffic)."""
    cr = service.cloud_run
    env: list[dict[str, Any]] = [{"name": k, "value": inputs.env[k]} for k in sorted(inputs.env)]
    for name in sorted(inputs.secret_env):
        ref = inputs.secret_env[name]
        env.append({"name": name, "valueSource": {"secretKeyRef": {"secret": ref.secret, "version": ref.version}}})
    volumes, mounts = _secret_volumes(inputs.secret_files)
    if inputs.cloudsql_instances:
        volumes.append({"name": CLOUDSQL_VOLUME, "cloudSqlInstance": {"instances": list(inputs.cloudsql_instances)}})
        mounts.append({"name": CLOUDSQL_VOLUME, "mountPath": CLOUDSQL_MOUNT})
    container: dict[str, Any] = {
        "image": inputs.image,
        "command": list(cr.command or ()),
        "args": list(cr.args or ()),
        "env": env,
        "ports": [{"name": "http1", "containerPort": service.port}],
        "resources": {
            "limits": {"cpu": cpu_limit(cr.cpu), "memory": cr.memory},
            "cpuIdle": cr.cpu_idle,
            "startupCpuBoost": cr.startup_cpu_boost,
        },
        "volumeMounts": mounts,
        "startupProbe": _probe(cr.probes.startup, service.port)
        if cr.probes.startup
        else default_startup_probe(service.port),
        "livenessProbe": _probe(cr.probes.liveness, service.port) if cr.probes.liveness else None,
    }
    template: dict[str, Any] = {
        "labels": dict(inputs.labels),
        "scaling": {"minInstanceCount": cr.min_instances, "maxInstanceCount": cr.max_instances},
        "timeout": f"{cr.timeout}s",
        "serviceAccount": inputs.service_account,
        "containers": [container],
        "volumes": volumes,
        "executionEnvironment": EXECUTION_ENVIRONMENT[cr.execution_environment] if cr.execution_environment else None,
        "maxInstanceRequestConcurrency": cr.concurrency,
        "sessionAffinity": cr.session_affinity,
        "vpcAccess": _vpc(inputs.vpc),
    }
    spec = {"labels": dict(inputs.labels), "ingress": INGRESS[cr.ingress], "template": template}
    pruned: dict[str, Any] = prune(spec)
    return pruned


def _vpc(vpc: VpcAccess | None) -> dict[str, Any] | None:
    if vpc is None:
        return None
    out: dict[str, Any] = {"egress": EGRESS[vpc.egress]}
    if vpc.connector:
        out["connector"] = vpc.connector
    if vpc.network or vpc.subnetwork:
        out["networkInterfaces"] = [{"network": vpc.network, "subnetwork": vpc.subnetwork}]
    return out


def settled_traffic() -> list[dict[str, Any]]:
    """All traffic to the latest ready revision: where every finished deploy leaves a service."""
    return [{"type": LATEST, "percent": 100}]


def prune(value: Any) -> Any:
    """Drop what proto3 JSON omits (None, false, 0, "", [], {}), except an env var's empty string value."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            keep_empty = key == "value" and "name" in value
            pruned = prune(item)
            if keep_empty and pruned == "":
                out[key] = ""
            elif pruned not in (None, False, 0, "", [], {}):
                out[key] = pruned
        return out
    if isinstance(value, list):
        return [prune(item) for item in value]
    return value
