"""Writing a service for a preview: its own settings kept as they are, only the template or traffic changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from shipit.errors import ConflictError, RemoteError
from shipit.remote import Json, RunApi
from shipit.steps.services import short_revision

# What a caller may set on a Cloud Run service (v2 REST): everything else is output only. Keeping the live
# values of the service-level fields means a preview never changes scaling, ingress, IAP... of the base.
_SPEC_KEYS = (
    "name",
    "description",
    "labels",
    "annotations",
    "client",
    "clientVersion",
    "ingress",
    "launchStage",
    "binaryAuthorization",
    "template",
    "scaling",
    "defaultUriDisabled",
    "customAudiences",
    "invokerIamDisabled",
    "iapEnabled",
    "multiRegionSettings",
)
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


def pinned(live: Json, drop_tags: Iterable[str] = ()) -> list[Json]:
    """The live traffic with every target on a named revision (LATEST pinned to the latest ready one), so
    writing a new template moves no traffic; ``drop_tags`` are left out (a tag only: its target goes, a tag
    with traffic: the traffic stays, untagged)."""
    drop = set(drop_tags)
    ready = short_revision(live.get("latestReadyRevision"))
    out: list[Json] = []
    for target in live.get("traffic", []):
        entry: dict[str, Any] = {"type": REVISION, "revision": target.get("revision") or ready}
        percent = int(target.get("percent", 0))
        if percent:
            entry["percent"] = percent
        tag = target.get("tag")
        if tag and tag not in drop:
            entry["tag"] = tag
        if percent or "tag" in entry:
            out.append(entry)
    return out


def write(api: RunApi, live: Json, traffic: list[Json], template: Json | None = None) -> tuple[Json, str | None]:
    """Replace the service with its live settings, ``traffic`` and (when given) a new template, guarded by
    the etag read with ``live``: (the service as written, an error)."""
    body = {k: v for k, v in live.items() if k in _SPEC_KEYS}
    if template is not None:
        body["template"] = template
    body = api.normalize(body | {"traffic": traffic})
    result = api.update_service(body | {"etag": live.get("etag")})
    return result.service, result.error


# Two pull requests' pipelines may write the same service at once: the loser re-reads and tries again.
ATTEMPTS = 4


def write_fresh(
    api: RunApi, live: Json, traffic: Callable[[Json], list[Json]], template: Json | None = None
) -> tuple[Json, str | None]:
    """:func:`write` with ``traffic(live)``; when the etag no longer matches (someone wrote the service since
    it was read), read it again and recompute the traffic from what is there now."""
    for attempt in range(ATTEMPTS):
        try:
            return write(api, live, traffic(live), template)
        except ConflictError:
            if attempt == ATTEMPTS - 1:
                raise
            fresh = api.get_service(str(live["name"]))
            if fresh is None:
                raise RemoteError(f"Cloud Run service {str(live['name']).rsplit('/', 1)[-1]} disappeared") from None
            live = fresh
    raise AssertionError("unreachable")
