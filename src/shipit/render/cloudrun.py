"""The desired Cloud Run Admin API v2 ``Service`` of one shipit service, as REST JSON (camelCase).

Pure: config + resolved inputs in, dict out. The dict is already in the shape the API returns
(proto3 JSON: zero values, ``false`` and empty lists omitted), so it can be compared field by field
with the live service. docs/gcloud-equivalence.md maps every field to its `gcloud run deploy` flag.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shipit.config.cloudrun import Probe, Sidecar, Volume
from shipit.config.models import Service
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
    name: str = "app"  # the service's name: its ingress container's name next to sidecars
    env: Mapping[str, str] = field(default_factory=dict)  # plain variables, references substituted
    secret_env: Mapping[str, SecretRef] = field(default_factory=dict)  # env var name -> secret
    secret_files: Mapping[str, SecretRef] = field(default_factory=dict)  # absolute file path -> secret
    service_account: str | None = None
    vpc: VpcAccess | None = None
    cloudsql_instances: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    # Unset cloud_run.startup_cpu_boost resolved: on for a new service (as gcloud), else the live setting.
    cpu_boost: bool = False
    sidecar_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # sidecar -> plain variables
    sidecar_secret_env: Mapping[str, Mapping[str, SecretRef]] = field(default_factory=dict)
    sidecar_images: Mapping[str, str] = field(default_factory=dict)  # sidecar with build -> its pushed image


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
        out["grpc"] = {"port": target_port, "service": probe.service}
    return out


def _sidecar_probe(probe: Probe | None) -> dict[str, Any] | None:
    # A sidecar has no container port: its probes name their port (checked by validate), else 0 is omitted.
    return _probe(probe, 0) if probe else None


def health_path(service: Service) -> str | None:
    """The path checked after a deploy: the readiness probe's HTTP path when there is one (what Cloud Run
    itself gates traffic on), else ``health.path``; None when ``health.path`` is null (no check)."""
    if service.health.path is None:
        return None
    readiness = service.cloud_run.probes.readiness
    if readiness is not None and readiness.type == "http":
        return readiness.path
    return service.health.path


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


def _env(plain: Mapping[str, str], secret: Mapping[str, SecretRef]) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": k, "value": plain[k]} for k in sorted(plain)]
    for name in sorted(secret):
        ref = secret[name]
        env.append({"name": name, "valueSource": {"secretKeyRef": {"secret": ref.secret, "version": ref.version}}})
    return env


def volume_source(volume: Volume) -> dict[str, Any]:
    """The v2 volume source of a gcs / nfs / empty_dir volume (without its name)."""
    if volume.gcs is not None:
        gcs = volume.gcs
        return {"gcs": {"bucket": gcs.bucket, "readOnly": gcs.read_only, "mountOptions": list(gcs.mount_options)}}
    if volume.nfs is not None:
        return {"nfs": {"server": volume.nfs.server, "path": volume.nfs.path, "readOnly": volume.nfs.read_only}}
    size = volume.empty_dir.size_limit if volume.empty_dir else None
    # In memory, as gcloud's --add-volume type=in-memory: Cloud Run's only medium for services today.
    return {"emptyDir": {"medium": "MEMORY", "sizeLimit": size}}


def _sidecar(name: str, sidecar: Sidecar, inputs: ServiceInputs, defined: set[str]) -> dict[str, Any]:
    limits = {"cpu": cpu_limit(sidecar.cpu) if sidecar.cpu else None, "memory": sidecar.memory}
    return {
        "name": name,
        "image": inputs.sidecar_images.get(name) or sidecar.image,
        "command": list(sidecar.command or ()),
        "args": list(sidecar.args or ()),
        "env": _env(inputs.sidecar_env.get(name, {}), inputs.sidecar_secret_env.get(name, {})),
        "resources": {"limits": limits},
        # `cloudsql` exists only once the database's connection name is known (infra outputs).
        "volumeMounts": [{"name": v, "mountPath": p} for v, p in sorted(sidecar.mounts.items()) if v in defined],
        "startupProbe": _sidecar_probe(sidecar.startup_probe),
        "livenessProbe": _sidecar_probe(sidecar.liveness_probe),
        "dependsOn": list(sidecar.depends_on),
    }


def render_service(service: Service, inputs: ServiceInputs) -> dict[str, Any]:
    """The Service spec (no output-only fields, no traffic: the deploy decides traffic)."""
    cr = service.cloud_run
    env = _env(inputs.env, inputs.secret_env)
    volumes, mounts = _secret_volumes(inputs.secret_files)
    if inputs.cloudsql_instances:
        volumes.append({"name": CLOUDSQL_VOLUME, "cloudSqlInstance": {"instances": list(inputs.cloudsql_instances)}})
        mounts.append({"name": CLOUDSQL_VOLUME, "mountPath": CLOUDSQL_MOUNT})
    for vol_name, volume in sorted(service.volumes.items()):
        volumes.append({"name": vol_name, **volume_source(volume)})
        if volume.mount:
            mounts.append({"name": vol_name, "mountPath": volume.mount})
    probes = cr.probes
    container: dict[str, Any] = {
        # Named only next to sidecars (Cloud Run requires names then), so single-container specs stay as they were.
        "name": inputs.name if service.sidecars else None,
        "image": inputs.image,
        "command": list(cr.command or ()),
        "args": list(cr.args or ()),
        "env": env,
        "ports": [{"name": "h2c" if cr.http2 else "http1", "containerPort": service.port}],
        "resources": {
            "limits": {"cpu": cpu_limit(cr.cpu), "memory": cr.memory},
            "cpuIdle": cr.cpu_idle,
            "startupCpuBoost": cr.startup_cpu_boost if cr.startup_cpu_boost is not None else inputs.cpu_boost,
        },
        "volumeMounts": mounts,
        "startupProbe": _probe(probes.startup, service.port) if probes.startup else default_startup_probe(service.port),
        "livenessProbe": _probe(probes.liveness, service.port) if probes.liveness else None,
        "readinessProbe": _probe(probes.readiness, service.port) if probes.readiness else None,
        "dependsOn": list(cr.depends_on),
    }
    defined = {volume["name"] for volume in volumes}
    sidecars = [_sidecar(name, sidecar, inputs, defined) for name, sidecar in service.sidecars.items()]
    template: dict[str, Any] = {
        "labels": dict(inputs.labels),
        "scaling": {"minInstanceCount": cr.min_instances, "maxInstanceCount": cr.max_instances},
        "timeout": f"{cr.timeout}s",
        "serviceAccount": inputs.service_account,
        "containers": [container, *sidecars],
        "volumes": volumes,
        "executionEnvironment": EXECUTION_ENVIRONMENT[cr.execution_environment] if cr.execution_environment else None,
        "maxInstanceRequestConcurrency": cr.concurrency,
        "sessionAffinity": cr.session_affinity,
        "vpcAccess": _vpc(inputs.vpc),
    }
    scaling = cr.scaling
    spec = {
        "labels": dict(inputs.labels),
        "description": cr.description,
        "ingress": INGRESS[cr.ingress],
        "iapEnabled": cr.iap,
        "invokerIamDisabled": cr.invoker_iam_disabled,
        "defaultUriDisabled": cr.default_uri_disabled,
        "customAudiences": list(cr.custom_audiences),
        # Service-level scaling applies across revisions; changing it creates no revision.
        "scaling": {
            "minInstanceCount": scaling.min_instances,
            "maxInstanceCount": scaling.max_instances,
            "scalingMode": "MANUAL" if scaling.manual_instances is not None else None,
            "manualInstanceCount": scaling.manual_instances,
        },
        "template": template,
    }
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


def settled_traffic(tags: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """All traffic to the latest ready revision: where every finished deploy leaves a service.

    ``tags`` (from :func:`kept_tags`) stay on their revisions at 0%, as `gcloud run deploy --no-traffic
    --tag` leaves them, so a tagged URL stays valid after the rollout and after a promotion."""
    return [{"type": LATEST, "percent": 100}, *(dict(tag) for tag in tags)]


def kept_tags(
    traffic: Sequence[Mapping[str, Any]], latest_ready: str | None, moving: str | None = None
) -> list[dict[str, Any]]:
    """The tags of ``traffic`` as 0% targets pinned to a revision (a tag on LATEST pins the latest ready
    one); ``moving`` is a tag about to be given to another revision, so it is left out."""
    out: dict[str, dict[str, Any]] = {}
    for target in traffic:
        tag = target.get("tag")
        revision = target.get("revision") or (latest_ready or "").rsplit("/", 1)[-1]
        if tag and tag != moving and revision:
            out[tag] = {"type": REVISION, "revision": revision, "percent": 0, "tag": tag}
    return [out[t] for t in sorted(out)]


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
