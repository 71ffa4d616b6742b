"""What the planning and the rollout of the services step (steps/services) share.

The step's options, the settings of one run (every payload carries them), and the plan payload of one
service, with the Cloud Run names both sides build. All of it is frozen data: apply() gets the clients
from ``ctx.remote`` and passes the URLs of deployed services from one wave to the next itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipit import names
from shipit.plan import FrozenJson
from shipit.steps.services.invokers import InvokerChange

if TYPE_CHECKING:
    from shipit.config import Target

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
    # URLs of referenced services that run elsewhere (a multi-region environment's primary region).
    urls: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RunSettings:
    """What every service of one run shares: the options, this release's labels, the dependency waves and
    the URLs of the services already live when planning (the rollout adds the ones it deploys)."""

    options: DeployOptions
    release_id: str
    git_sha: str
    waves: tuple[tuple[str, ...], ...]
    urls: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ServicePlan:
    """Payload of one service's Change: what apply() needs."""

    name: str
    full_name: str
    live: FrozenJson | None
    policy: FrozenJson | None
    desired: FrozenJson  # spec without traffic, normalized; labels carry this run's release when changed
    spec_changed: bool
    traffic_changed: bool
    invokers: InvokerChange  # managed members of roles/run.invoker to add or remove
    retry_failed: bool
    pending_refs: tuple[str, ...]  # services whose URL is not known yet
    settings: RunSettings


def location_parent(target: Target) -> str:
    return names.location_parent(target.project, target.region)


def full_name(target: Target, service: str) -> str:
    return f"{location_parent(target)}/services/{service}"
