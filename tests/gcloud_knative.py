"""Map what `gcloud run deploy` sends (Cloud Run v1, Knative-style) to the Cloud Run Admin API v2 shape.

Only the fields docs/gcloud-equivalence.md lists are mapped; the result is pruned like shipit's own
request (proto3 JSON omits zero values), so the two compare with ==. Where v1 leaves a server-side
default implicit (a port without a name is "http1"), the mapped value states the default.
"""

from __future__ import annotations

import json
from typing import Any

from shipit.render.cloudrun import prune

Json = dict[str, Any]
_INGRESS = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
}
_EGRESS = {"private-ranges-only": "PRIVATE_RANGES_ONLY", "all-traffic": "ALL_TRAFFIC"}
_EXEC = {"gen1": "EXECUTION_ENVIRONMENT_GEN1", "gen2": "EXECUTION_ENVIRONMENT_GEN2"}
_GCSFUSE = "gcsfuse.run.googleapis.com"
# Labels gcloud adds to every request, not part of the user's configuration.
_CLIENT_LABELS = ("client.knative.dev/nonce",)


def _bool(value: str | None) -> bool | None:
    return None if value is None else value.lower() == "true"


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _probe(probe: Json | None) -> Json | None:
    return dict(probe) if probe else None


def _container(c: Json, annotations: Json, deps: Json, first: bool) -> Json:
    env = []
    for e in c.get("env", []):
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            env.append(
                {"name": e["name"], "valueSource": {"secretKeyRef": {"secret": ref["name"], "version": ref["key"]}}}
            )
        else:
            env.append({"name": e["name"], "value": e.get("value", "")})
    resources = dict(c.get("resources") or {})
    out: Json = {
        "name": c.get("name"),
        "image": c.get("image"),
        "command": c.get("command"),
        "args": c.get("args"),
        "env": sorted(env, key=lambda e: (0 if "value" in e else 1, e["name"])),
        # v1 leaves the port name to the server, whose default is http1.
        "ports": [
            {"name": p.get("name") or "http1", "containerPort": p.get("containerPort")} for p in c.get("ports", [])
        ],
        "resources": {
            "limits": resources.get("limits"),
            "cpuIdle": _bool(annotations.get("run.googleapis.com/cpu-throttling")) if first else None,
            "startupCpuBoost": _bool(annotations.get("run.googleapis.com/startup-cpu-boost")) if first else None,
        },
        "volumeMounts": [{"name": m["name"], "mountPath": m["mountPath"]} for m in c.get("volumeMounts", [])],
        "startupProbe": _probe(c.get("startupProbe")),
        "livenessProbe": _probe(c.get("livenessProbe")),
        "readinessProbe": _probe(c.get("readinessProbe")),
        "dependsOn": deps.get(c.get("name") or ""),
    }
    return out


def _volume(v: Json, instances: list[str]) -> Json:
    out: Json = {"name": v["name"]}
    if "secret" in v:
        s = v["secret"]
        out["secret"] = {
            "secret": s["secretName"],
            "items": [{"path": i["path"], "version": i["key"]} for i in s.get("items", [])],
        }
    elif "emptyDir" in v:
        medium = v["emptyDir"].get("medium")
        out["emptyDir"] = {
            "medium": "MEMORY" if medium == "Memory" else medium,
            "sizeLimit": v["emptyDir"].get("sizeLimit"),
        }
    elif "csi" in v and v["csi"].get("driver") == _GCSFUSE:
        attrs = v["csi"].get("volumeAttributes") or {}
        options = [o for o in str(attrs.get("mountOptions", "")).split(",") if o]
        out["gcs"] = {"bucket": attrs.get("bucketName"), "readOnly": v["csi"].get("readOnly"), "mountOptions": options}
    elif "nfs" in v:
        out["nfs"] = dict(v["nfs"])
    return out


def to_v2(service: Json) -> Json:
    """A v1 Knative Service as gcloud sends it -> the v2 Service fields shipit renders."""
    meta = service.get("metadata") or {}
    ann = meta.get("annotations") or {}
    template = (service.get("spec") or {}).get("template") or {}
    tmeta = template.get("metadata") or {}
    tann = tmeta.get("annotations") or {}
    tspec = template.get("spec") or {}
    deps = json.loads(tann.get("run.googleapis.com/container-dependencies", "{}"))
    containers = [_container(c, tann, deps, i == 0) for i, c in enumerate(tspec.get("containers", []))]
    instances = [i for i in tann.get("run.googleapis.com/cloudsql-instances", "").split(",") if i]
    volumes = [_volume(v, instances) for v in tspec.get("volumes", [])]
    if instances:
        volumes.append({"name": "cloudsql", "cloudSqlInstance": {"instances": instances}})
    vpc: Json | None = None
    if any(k.startswith(("run.googleapis.com/vpc-access", "run.googleapis.com/network-interfaces")) for k in tann):
        vpc = {
            "connector": tann.get("run.googleapis.com/vpc-access-connector"),
            "egress": _EGRESS.get(tann.get("run.googleapis.com/vpc-access-egress", "")),
            "networkInterfaces": json.loads(tann.get("run.googleapis.com/network-interfaces", "[]")),
        }
    manual = ann.get("run.googleapis.com/scalingMode") == "manual"
    out = {
        "labels": meta.get("labels"),
        "description": ann.get("run.googleapis.com/description"),
        "ingress": _INGRESS.get(ann.get("run.googleapis.com/ingress", "")),
        "iapEnabled": _bool(ann.get("run.googleapis.com/iap-enabled")),
        "invokerIamDisabled": _bool(ann.get("run.googleapis.com/invoker-iam-disabled")),
        "defaultUriDisabled": _bool(ann.get("run.googleapis.com/default-url-disabled")),
        "customAudiences": json.loads(ann.get("run.googleapis.com/custom-audiences", "[]")),
        "scaling": {
            "minInstanceCount": _int(ann.get("run.googleapis.com/minScale")),
            "maxInstanceCount": _int(ann.get("run.googleapis.com/maxScale")),
            "scalingMode": "MANUAL" if manual else None,
            "manualInstanceCount": _int(ann.get("run.googleapis.com/manualInstanceCount")),
        },
        "template": {
            "labels": {k: v for k, v in (tmeta.get("labels") or {}).items() if k not in _CLIENT_LABELS},
            "scaling": {
                "minInstanceCount": _int(tann.get("autoscaling.knative.dev/minScale")),
                "maxInstanceCount": _int(tann.get("autoscaling.knative.dev/maxScale")),
            },
            "timeout": f"{tspec['timeoutSeconds']}s" if "timeoutSeconds" in tspec else None,
            "serviceAccount": tspec.get("serviceAccountName"),
            "containers": containers,
            "volumes": volumes,
            "executionEnvironment": _EXEC.get(tann.get("run.googleapis.com/execution-environment", "")),
            "maxInstanceRequestConcurrency": tspec.get("containerConcurrency"),
            "sessionAffinity": _bool(tann.get("run.googleapis.com/sessionAffinity")),
            "vpcAccess": vpc,
        },
    }
    pruned: Json = prune(out)
    return pruned


def traffic_to_v2(traffic: list[Json]) -> list[Json]:
    """v1 traffic targets -> v2 (type LATEST / REVISION), pruned."""
    out = []
    for t in traffic:
        if t.get("latestRevision"):
            target: Json = {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"}
        else:
            target = {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": t.get("revisionName")}
        target.update({"percent": t.get("percent"), "tag": t.get("tag")})
        out.append(prune(target))
    return out


def job_to_v2(job: Json) -> Json:
    """A v1 Job as `gcloud run jobs deploy` sends it -> the v2 Job fields shipit renders for a migration."""
    execution = (job.get("spec") or {}).get("template") or {}
    task = ((execution.get("spec") or {}).get("template") or {}).get("spec") or {}
    # The task template has a revision template's shape (containers, volumes, account, timeout): reuse to_v2.
    as_service = {
        "metadata": job.get("metadata"),
        "spec": {"template": {"metadata": execution.get("metadata"), "spec": task}},
    }
    mapped = to_v2(as_service)
    template = mapped.get("template", {})
    out: Json = prune(
        {
            "labels": mapped.get("labels"),
            "template": {
                "labels": template.get("labels"),
                "taskCount": (execution.get("spec") or {}).get("taskCount"),
                "parallelism": (execution.get("spec") or {}).get("parallelism"),
                "template": {k: template.get(k) for k in ("containers", "volumes", "serviceAccount", "vpcAccess")}
                | {"timeout": template.get("timeout")},
            },
        }
    )
    if "maxRetries" in task:  # 0 is meaningful here (no retry), so it is kept like shipit keeps it
        out.setdefault("template", {}).setdefault("template", {})["maxRetries"] = int(task["maxRetries"])
    return out
