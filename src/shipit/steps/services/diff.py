"""Field-by-field comparison of a desired Cloud Run service with the live one, both in REST JSON shape.

Both sides are flattened into display paths (``env.LOG_LEVEL``, ``resources.limits.memory``). A field
the desired service sets must match. A field only the live service has is a difference only under the
paths shipit owns (env, volumes, probes, labels, ...): elsewhere it is a server-side default (the
default service account, launch stage, annotations other tools add) and must not cause a new revision
on every deploy. Volatile labels (release id, git sha) are never a reason for a change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from shipit.plan import FieldDiff
from shipit.render.cloudrun import LATEST, VOLATILE_LABELS

_CONTAINER = "template.containers[0]."
# Paths (after shortening) whose absence in the desired service means "remove it from the live one".
_OWNED_PREFIXES = (
    "labels.",
    "revision.labels.",
    "env.",
    "volumes[",
    "volumeMounts[",
    "vpcAccess",
    "command",
    "args",
    "startupProbe.",
    "livenessProbe.",
    "readinessProbe.",
    "dependsOn",
    "description",
    "iapEnabled",
    "invokerIamDisabled",
    "defaultUriDisabled",
    "customAudiences",
    "service.scaling.",
    "sessionAffinity",
    "scaling.minInstanceCount",
    "resources.cpuIdle",
    "resources.startupCpuBoost",
    "ingress",
)
_IGNORED = ("etag", "traffic")
# In a sidecar (containers[1..]) Cloud Run fills resources in; shipit owns what it renders there.
_SIDECAR = re.compile(r"^containers\[\d+\]\.")
_SIDECAR_OWNED = (
    "name",
    "image",
    "command",
    "args",
    "env",
    "volumeMounts",
    "startupProbe",
    "livenessProbe",
    "dependsOn",
)


# Live values that mean "not set" (what Cloud Run reports for a service that never set them).
_SERVER_DEFAULTS = {("service.scaling.scalingMode", "AUTOMATIC")}


def _owned(path: str) -> bool:
    match = _SIDECAR.match(path)
    if match:
        return path[match.end() :].startswith(_SIDECAR_OWNED)
    return path.startswith(_OWNED_PREFIXES)


# Service-level fields: outside the revision template, so changing only these creates no revision.
SERVICE_LEVEL = (
    "labels.",
    "description",
    "ingress",
    "iapEnabled",
    "invokerIamDisabled",
    "defaultUriDisabled",
    "customAudiences",
    "service.scaling.",
)


def _short(path: str) -> str:
    if path.startswith("scaling."):
        return "service." + path  # service-level scaling, apart from the revision's template.scaling
    if path.startswith(_CONTAINER):
        return path[len(_CONTAINER) :]
    if path.startswith("template.labels."):
        return "revision." + path[len("template.") :]
    if path.startswith("template."):
        return path[len("template.") :]
    return path


def _env_display(entry: Mapping[str, Any]) -> str:
    ref = (entry.get("valueSource") or {}).get("secretKeyRef")
    if ref is not None:
        return f"secret {ref.get('secret')} version {ref.get('version', 'latest')}"
    return json.dumps(entry.get("value", ""))


def flatten(obj: Any, prefix: str = "", out: dict[str, str] | None = None) -> dict[str, str]:
    """path -> display string. Named list items are keyed by name so reordering is not a change."""
    out = {} if out is None else out
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else key
            if path in _IGNORED:
                continue
            if key == "env" and isinstance(value, list):
                for entry in value:
                    out[_short(f"{path}.{entry.get('name')}")] = _env_display(entry)
            else:
                flatten(value, path, out)
    elif isinstance(obj, list):
        if all(not isinstance(item, (dict, list)) for item in obj):
            out[_short(prefix)] = json.dumps(obj)
        elif all(isinstance(item, dict) and "name" in item for item in obj) and not prefix.endswith("containers"):
            for item in obj:
                rest = {k: v for k, v in item.items() if k != "name"}
                flatten(rest or {"": ""}, f"{prefix}[{item['name']}]", out)
        else:
            for i, item in enumerate(obj):
                flatten(item, f"{prefix}[{i}]", out)
    else:
        out[_short(prefix)] = obj if isinstance(obj, str) else json.dumps(obj)
    return out


def _volatile(path: str) -> bool:
    return any(path.endswith("labels." + label) for label in VOLATILE_LABELS)


def spec_diff(desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
    """Differences that need an update, in a stable order. Empty: nothing to do, no revision."""
    want = {k: v for k, v in flatten(dict(desired)).items() if not _volatile(k)}
    have = {k: v for k, v in flatten(_spec_only(live)).items() if not _volatile(k)}
    diffs = []
    for path in sorted(set(want) | set(have)):
        before, after = have.get(path), want.get(path)
        if before == after:
            continue
        if after is None and (not _owned(path) or (path, before) in _SERVER_DEFAULTS):
            continue  # a server-side default or another tool's addition
        diffs.append(FieldDiff(path.rstrip("."), before, after))
    return diffs


def creates_revision(diffs: Sequence[FieldDiff]) -> bool:
    """Whether applying these differences makes Cloud Run create a revision (a template change)."""
    return any(not d.field.startswith(SERVICE_LEVEL) for d in diffs)


def _spec_only(live: Mapping[str, Any]) -> dict[str, Any]:
    keep = (
        "labels",
        "description",
        "ingress",
        "iapEnabled",
        "invokerIamDisabled",
        "defaultUriDisabled",
        "customAudiences",
        "scaling",
        "template",
    )
    return {k: live[k] for k in keep if k in live}


# -- traffic -----------------------------------------------------------------------------------------


def short_revision(name: str | None) -> str:
    return (name or "").rsplit("/", 1)[-1]


def traffic_display(traffic: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for target in traffic:
        who = "latest" if target.get("type", LATEST) == LATEST and not target.get("revision") else target["revision"]
        text = f"{int(target.get('percent', 0))}% {who}"
        if target.get("tag"):
            text += f" (tag {target['tag']})"
        parts.append(text)
    return ", ".join(parts) or "(none)"


def _traffic_key(traffic: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, int, str]]:
    # A tag kept on a revision at 0% (a finished staged rollout) is not a reason to rewrite traffic.
    return sorted(
        (
            "latest" if not t.get("revision") else "revision",
            str(t.get("revision", "")),
            int(t.get("percent", 0)),
            str(t.get("tag", "")),
        )
        for t in traffic
        if not (t.get("revision") and t.get("tag") and not int(t.get("percent", 0)))
    )


def traffic_diff(desired: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]]) -> FieldDiff | None:
    if _traffic_key(desired) == _traffic_key(live):
        return None
    return FieldDiff("traffic", traffic_display(live), traffic_display(desired))
