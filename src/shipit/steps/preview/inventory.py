"""The previews that exist: the traffic tags of the app's services whose revision was made for that tag.

Tags are the source of truth (a tag with no revision label is a staged rollout's or someone else's, and is
never listed, so never removed); the revision's labels say which preview made it and when.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipit.concurrency import bounded_map
from shipit.remote import Json
from shipit.steps.preview.names import CREATED_LABEL, PREVIEW_LABEL
from shipit.steps.services import location_parent, short_revision

if TYPE_CHECKING:
    from shipit.steps.context import StepContext


@dataclass(frozen=True)
class PreviewTag:
    service: str
    revision: str
    url: str | None
    created: int  # Unix seconds


@dataclass(frozen=True)
class Preview:
    name: str
    tags: tuple[PreviewTag, ...]

    @property
    def created(self) -> int:
        return min(t.created for t in self.tags)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(t.service for t in self.tags)

    @property
    def urls(self) -> dict[str, str]:
        return {t.service: t.url for t in self.tags if t.url}

    def age(self, now: float | None = None) -> int:
        return max(0, int((time.time() if now is None else now) - self.created))

    def to_json(self, now: float | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "services": list(self.services),
            "urls": self.urls,
            "created": self.created,
            "age_seconds": self.age(now),
            "revisions": {t.service: t.revision for t in self.tags},
        }


@dataclass(frozen=True)
class ServiceState:
    """One service as read: the live service and its revisions by id."""

    name: str
    live: Json | None
    revisions: dict[str, Json] = field(default_factory=dict)

    def tags(self) -> dict[str, str]:
        """tag -> revision id, a tag on LATEST resolved to the latest ready revision."""
        live = self.live or {}
        ready = short_revision(live.get("latestReadyRevision"))
        return {str(t["tag"]): str(t.get("revision") or ready) for t in live.get("traffic", []) if t.get("tag")}

    def preview_tags(self) -> dict[str, PreviewTag]:
        urls = {s.get("tag"): s.get("uri") for s in (self.live or {}).get("trafficStatuses", []) if s.get("tag")}
        out = {}
        for tag, revision in self.tags().items():
            labels = (self.revisions.get(revision) or {}).get("labels") or {}
            if labels.get(PREVIEW_LABEL) != tag:
                continue
            created = str(labels.get(CREATED_LABEL, ""))
            out[tag] = PreviewTag(self.name, revision, urls.get(tag), int(created) if created.isdigit() else 0)
        return out


def app_services(ctx: StepContext) -> list[str]:
    """The Cloud Run services of shipit.yaml (worker pools and jobs have no previews)."""
    return [n for n, s in ctx.target.config.services.items() if s.kind == "service"]


def read_services(ctx: StepContext, names: list[str] | None = None) -> dict[str, ServiceState]:
    api = ctx.remote.run
    parent = location_parent(ctx.target)

    def one(name: str) -> ServiceState:
        full = f"{parent}/services/{name}"
        live = api.get_service(full)
        if live is None:
            return ServiceState(name, None)
        revisions = {short_revision(r["name"]): r for r in api.list_revisions(full)}
        return ServiceState(name, live, revisions)

    wanted = app_services(ctx) if names is None else names
    states = bounded_map(one, wanted, ctx.options.concurrency, name="run")
    return {s.name: s for s in states}


def previews(states: dict[str, ServiceState]) -> list[Preview]:
    """Every preview, oldest first."""
    by_name: dict[str, list[PreviewTag]] = {}
    for state in states.values():
        for tag, found in state.preview_tags().items():
            by_name.setdefault(tag, []).append(found)
    found_previews = [Preview(n, tuple(sorted(tags, key=lambda t: t.service))) for n, tags in by_name.items()]
    return sorted(found_previews, key=lambda p: (p.created, p.name))
