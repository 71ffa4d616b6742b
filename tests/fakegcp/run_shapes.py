"""Cloud Run v2 resource shapes: names, server-side defaults, URIs and conditions."""

from __future__ import annotations

import re
from typing import Any

from fakegcp.errors import ApiError
from fakegcp.model import Json, deep_copy, digest, project_number

SERVICE_ID = re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$")
TAG = re.compile(r"^[a-z]([-a-z0-9]{0,45}[a-z0-9])?$")
LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
# Output-only fields every Cloud Run v2 resource (service, job) has; a create or patch ignores them.
OUTPUT_ONLY = frozenset(
    {
        "name",
        "uid",
        "generation",
        "createTime",
        "updateTime",
        "deleteTime",
        "expireTime",
        "creator",
        "lastModifier",
        "observedGeneration",
        "terminalCondition",
        "conditions",
    }
)
SUCCEEDED = "CONDITION_SUCCEEDED"
FAILED = "CONDITION_FAILED"
DEFAULT_FAILURE = (
    "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 "
    "environment variable within the allocated timeout. This can happen when the container port is "
    "misconfigured or if the timeout is too short. The health check timeout can be extended. Logs for this "
    "revision might contain more information."
)
_REGION_CODES = {
    "us-central1": "uc",
    "us-east1": "ue",
    "us-east4": "uk",
    "us-west1": "uw",
    "europe-west1": "ew",
    "europe-west2": "nw",
    "europe-west3": "ey",
    "europe-west4": "ez",
    "asia-northeast1": "an",
    "asia-east1": "de",
    "australia-southeast1": "ts",
}
_NAME = re.compile(r"^projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/(?P<kind>[a-zA-Z]+)/(?P<id>[^/]+)$")


def split_name(name: str) -> tuple[str, str, str]:
    """(project, location, id) of a projects/*/locations/*/<kind>/* name."""
    m = _NAME.match(name)
    if not m:
        raise ApiError.invalid_argument(f"Invalid resource name: {name}")
    return m.group("project"), m.group("location"), m.group("id")


def check_resource_id(resource_id: str, kind: str = "service") -> None:
    if not resource_id:
        raise ApiError.invalid_argument(f"{kind}_id is required.")
    if not SERVICE_ID.match(resource_id):
        raise ApiError.invalid_argument(
            f"Invalid {kind} id '{resource_id}': must use only lowercase letters, numbers and '-'. "
            "Must begin with a letter and cannot end with a '-'. Maximum length is 49 characters."
        )


def not_found(kind: str, name: str) -> ApiError:
    try:
        project, location, rid = split_name(name)
    except ApiError:
        return ApiError.not_found(f"Resource '{name}' of kind '{kind}' does not exist.")
    return ApiError.not_found(
        f"Resource '{rid}' of kind '{kind}' in region '{location}' in project '{project}' does not exist."
    )


def service_uri(project: str, location: str, service_id: str, tag: str | None = None) -> str:
    code = _REGION_CODES.get(location, "".join(p[0] for p in location.split("-")[:2]))
    host = f"{service_id}-{digest('run-host', project, length=10)}-{code}.a.run.app"
    return f"https://{tag}---{host}" if tag else f"https://{host}"


def service_urls(project: str, location: str, service_id: str) -> list[str]:
    return [
        f"https://{service_id}-{project_number(project)}.{location}.run.app",
        service_uri(project, location, service_id),
    ]


def check_template(template: Any, what: str = "service.template") -> None:
    if not isinstance(template, dict):
        raise ApiError.invalid_argument(f"{what}: Field is required.", field=what)
    containers = template.get("containers") or []
    if not containers:
        raise ApiError.invalid_argument(
            f"{what}.containers: at least one container is required.", field=f"{what}.containers"
        )
    for i, c in enumerate(containers):
        if not c.get("image"):
            raise ApiError.invalid_argument(
                f"{what}.containers[{i}].image: Field is required.", field=f"{what}.containers[{i}].image"
            )
    with_ports = [c for c in containers if c.get("ports")]
    if len(containers) > 1 and len(with_ports) != 1:
        raise ApiError.invalid_argument(f"{what}.containers: exactly one container must specify a port.")
    _check_containers(template, containers, what)


# Cloud Run's probe limits (https://cloud.google.com/run/docs/configuring/healthchecks), seconds.
_PROBE_MAX = {"startupProbe": 240, "livenessProbe": 3600, "readinessProbe": 3600}


def _check_containers(template: Json, containers: list[Json], what: str) -> None:
    """Multi-container rules Cloud Run enforces: names, volume mounts, dependencies and probe windows."""
    names = [c.get("name", "") for c in containers]
    if len(containers) > 1 and (not all(names) or len(set(names)) != len(names)):
        raise ApiError.invalid_argument(f"{what}.containers: every container needs a unique name.")
    volumes = {v.get("name") for v in template.get("volumes") or []}
    for v in template.get("volumes") or []:
        if "gcs" in v and not v["gcs"].get("bucket"):
            raise ApiError.invalid_argument(f"{what}.volumes[{v.get('name')}].gcs.bucket: Field is required.")
        if "nfs" in v and not v["nfs"].get("server"):
            raise ApiError.invalid_argument(f"{what}.volumes[{v.get('name')}].nfs.server: Field is required.")
    for i, c in enumerate(containers):
        where = f"{what}.containers[{i}]"
        for mount in c.get("volumeMounts") or []:
            if mount.get("name") not in volumes:
                raise ApiError.invalid_argument(f"{where}.volumeMounts: volume '{mount.get('name')}' is not defined.")
        for dep in c.get("dependsOn") or []:
            if dep not in names or dep == c.get("name"):
                raise ApiError.invalid_argument(f"{where}.dependsOn: '{dep}' is not another container.")
        for kind, limit in _PROBE_MAX.items():
            probe = c.get(kind)
            if not probe:
                continue
            period, timeout = probe.get("periodSeconds", 10), probe.get("timeoutSeconds", 1)
            if timeout > period:
                raise ApiError.invalid_argument(f"{where}.{kind}.timeoutSeconds: must not exceed periodSeconds.")
            for field in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds"):
                if probe.get(field, 0) > limit:
                    raise ApiError.invalid_argument(f"{where}.{kind}.{field}: must be at most {limit}.")


def default_service_template(template: Json, project: str) -> Json:
    """The template as Cloud Run stores it: with its server-side defaults filled in."""
    t: Json = deep_copy(template)
    t.setdefault("timeout", "300s")
    t.setdefault("maxInstanceRequestConcurrency", 80)
    t.setdefault("serviceAccount", f"{project_number(project)}-compute@developer.gserviceaccount.com")
    t.setdefault("scaling", {}).setdefault("maxInstanceCount", 100)
    containers = t["containers"]
    ingress = next((c for c in containers if c.get("ports")), containers[0])
    for c in containers:
        # run.v2 ResourceRequirements.cpu_idle is "true by default. However, if ResourceRequirements is set,
        # the caller must explicitly set this field to true to preserve the default behavior."
        if "resources" not in c:
            c["resources"] = {"cpuIdle": True}
        c["resources"].setdefault("limits", {"cpu": "1000m", "memory": "512Mi"})
    if not ingress.get("ports"):
        ingress["ports"] = [{"name": "http1", "containerPort": 8080}]
    port = ingress["ports"][0].get("containerPort", 8080)
    ingress.setdefault(
        "startupProbe",
        {
            "timeoutSeconds": 240,
            "periodSeconds": 240,
            "failureThreshold": 1,
            "tcpSocket": {"port": port},
        },
    )
    return t


def condition(kind: str, state: str, when: str, message: str | None = None, **reason: str) -> Json:
    out: Json = {"type": kind, "state": state, "lastTransitionTime": when}
    if message:
        out["message"] = message
    out.update(reason)
    return out
