"""What the planning and the rollout of the services step (steps/services) share.

The step's options, the state of one run (the plan payloads point at it) and the plan payload of one
service, with the Cloud Run names both sides build.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shipit.steps.services.api import HealthChecker, Json, RunApi
from shipit.steps.services.invokers import InvokerChange

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext

DEFAULT_TAG = "candidate"


@dataclass(frozen=True)
class DeployOptions:
    """What `shipit services deploy` adds to the step's usual inputs."""

    services: tuple[str, ...] = ()  # empty: every service
    secret_versions: tuple[tuple[str, str], ...] = ()  # (KEY, "N" or a full version name)
    staged: bool = False  # no traffic under a tag, health check, then move traffic
    canary: int | None = None  # staged, then only this percent; `shipit promote` moves the rest
    tag: str = DEFAULT_TAG
    release_id: str | None = None
    git_sha: str | None = None
    health_checker: HealthChecker | None = None


@dataclass
class SharedRun:
    """State shared by every service of one run (the plan payloads point at it)."""

    ctx: StepContext
    api: RunApi
    options: DeployOptions
    release_id: str
    git_sha: str
    waves: list[list[str]]
    urls: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class ServicePlan:
    """Payload of one service's Change: what apply() needs."""

    name: str
    full_name: str
    live: Json | None
    policy: Json | None
    desired: Json  # spec without traffic, normalized; labels carry this run's release when changed
    spec_changed: bool
    traffic_changed: bool
    invokers: InvokerChange  # managed members of roles/run.invoker to add or remove
    retry_failed: bool
    pending_refs: tuple[str, ...]  # services whose URL is not known yet
    shared: SharedRun


def location_parent(target: Target) -> str:
    return f"projects/{target.project}/locations/{target.region}"


def full_name(target: Target, service: str) -> str:
    return f"{location_parent(target)}/services/{service}"
