"""Multi-region environments for the services step: the same service in every region of its ``regions``.

Each region gets its own Cloud Run service through the GA per-location API (not Cloud Run's preview
``multiRegionSettings``): every read, write, readiness wait, traffic change and rollback stays the
single-region code, run once per region against a *regional target* (the environment with that region).
Regions roll out one after another, the primary first: a failure stops the release before the next
region, so the regions not reached keep serving the previous revision behind the load balancer.

Names: the primary region's service is ``NAME`` (plans, results, status), the others ``NAME@REGION``.
Services behind the environment's load balancer (``domain``) get ingress
``internal-and-cloud-load-balancing`` unless shipit.yaml sets another ingress than ``all``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.errors import UsageError
from shipit.plan import Change, Plan
from shipit.results import ServicesResult
from shipit.steps.release import ReleaseRollback
from shipit.steps.services import deploy, traffic
from shipit.steps.services.shared import DeployOptions, ServicePlan

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext

LB_INGRESS = "internal-and-cloud-load-balancing"


@dataclass(frozen=True)
class Regional:
    """A change planned in one region: the single-region payload and where it applies."""

    region: str
    payload: Any


def lb_services(target: Target) -> frozenset[str]:
    """The services the environment's load balancer sends requests to."""
    env = target.environment
    if not env.domain:
        return frozenset()
    if env.routes:
        return frozenset(env.routes.values())
    return frozenset(n for n, s in target.config.services.items() if s.kind == "service")


def is_multi(target: Target) -> bool:
    """True when some service runs in more than one region or behind the load balancer."""
    return len(target.regions) > 1 or bool(target.environment.domain)


def key(target: Target, name: str, region: str) -> str:
    """How results and plans name one service in one region."""
    return name if region == target.region else f"{name}@{region}"


def split_key(text: str) -> tuple[str, str | None]:
    """``api@us-central1`` -> ("api", "us-central1"); ``api`` -> ("api", None) (the primary region)."""
    name, _, region = text.partition("@")
    return name, region or None


def regional_target(target: Target, region: str) -> Target:
    """The environment as if it had only ``region``: the single-region code runs on it unchanged."""
    fronted = lb_services(target)
    services = {}
    for name, svc in target.config.services.items():
        update: dict[str, Any] = {"regions": None}
        if name in fronted and svc.cloud_run.ingress == "all":
            update["cloud_run"] = svc.cloud_run.model_copy(update={"ingress": LB_INGRESS})
        services[name] = svc.model_copy(update=update)
    env = target.environment.model_copy(update={"region": region, "regions": None, "domain": None, "routes": {}})
    config = target.config.model_copy(update={"services": services})
    return dataclasses.replace(target, config=config, environment=env, origin=target.origin or target)


def regional_context(ctx: StepContext, region: str) -> StepContext:
    """``ctx`` for one region; it shares the remote clients, results and input sources of ``ctx``."""
    regional = dataclasses.replace(ctx, target=regional_target(ctx.target, region))
    regional.remote = ctx.remote  # the clients are per project, not per region
    return regional


def _by_region(target: Target, names: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {r: [] for r in target.regions}
    for name in names:
        for region in target.service_regions(name):
            out[region].append(name)
    return {r: n for r, n in out.items() if n}


def _relabel(target: Target, region: str, change: Change) -> Change:
    name = change.resource.removeprefix("service ")
    return dataclasses.replace(
        change,
        resource=f"service {key(target, name, region)}",
        payload=None if change.payload is None else Regional(region, change.payload),
    )


def _merge(step: str, target: Target, plans: Mapping[str, Plan]) -> Plan:
    changes: list[Change] = []
    notes: list[str] = []
    blockers: list[str] = []
    for region, sub in plans.items():
        changes.extend(_relabel(target, region, c) for c in sub.changes)
        notes.extend(n for n in sub.notes if n not in notes)
        blockers.extend(b for b in sub.blockers if b not in blockers)
    return Plan.of(step, changes, notes, blockers)


def _each_region(
    ctx: StepContext, names: Iterable[str], fn: Callable[[StepContext, list[str]], Plan], step: str
) -> Plan:
    plans = {r: fn(regional_context(ctx, r), n) for r, n in _by_region(ctx.target, names).items()}
    return _merge(step, ctx.target, plans)


def _sub_plan(plan: Plan, region: str) -> Plan:
    changes = [
        dataclasses.replace(c, payload=c.payload.payload)
        for c in plan.changes
        if isinstance(c.payload, Regional) and c.payload.region == region
    ]
    return Plan.of(plan.step, changes, plan.notes, plan.blockers)


def _regions_of(plan: Plan, target: Target) -> list[str]:
    found = {c.payload.region for c in plan.changes if isinstance(c.payload, Regional)}
    return [r for r in target.regions if r in found]


# -- deploy -------------------------------------------------------------------------------------------


def plan(ctx: StepContext, options: DeployOptions | None = None) -> Plan:
    """The services step's plan: per (service, region) when the environment is multi-region."""
    if not is_multi(ctx.target):
        return deploy.plan(ctx, options)
    options = options or DeployOptions(staged=ctx.options.staged, canary=ctx.options.canary)
    names = deploy.selected_services(ctx.target, options.services)
    # One release id and commit for every region, so rollback finds the release in each.
    if options.release_id is None or options.git_sha is None:
        from shipit.steps.release import git_sha

        options = dataclasses.replace(
            options,
            release_id=options.release_id or ctx.release_id,
            git_sha=options.git_sha or git_sha(ctx.target.root),
        )

    target = ctx.target
    plans: dict[str, Plan] = {}
    by_region = _by_region(target, names)
    # The primary region's plan reads the URLs the other regions may need; without one, read them here.
    primary_urls = {} if target.region in by_region else _live_urls(ctx, deploy.referenced_services(target, names))
    for region, here in by_region.items():
        # A service referring to one that does not run in this region gets the primary region's URL.
        elsewhere = {n: u for n, u in primary_urls.items() if region not in target.service_regions(n)}
        regional = dataclasses.replace(options, services=tuple(here), urls=tuple(sorted(elsewhere.items())))
        plans[region] = deploy.plan(regional_context(ctx, region), regional)
        if region == target.region:
            primary_urls = _planned_urls(plans[region])
    return _merge(deploy.STEP, target, plans)


def _planned_urls(plan: Plan) -> dict[str, str]:
    for change in plan.changes:
        if isinstance(change.payload, ServicePlan):
            return dict(change.payload.settings.urls)
    return {}


def apply(ctx: StepContext, plan: Plan) -> ServicesResult:
    """Roll out region by region, the primary first; a failing region stops the release there."""
    if not any(isinstance(c.payload, Regional) for c in plan.changes):
        return deploy.apply(ctx, plan)
    target = ctx.target
    out: dict[str, Mapping[str, Any]] = {}
    primary_urls: dict[str, str] = {}
    for region in _regions_of(plan, target):
        sub = _sub_plan(plan, region)
        if region != target.region:
            sub = _with_urls(sub, primary_urls)
        result = deploy.apply(regional_context(ctx, region), sub)
        for name, entry in result.services.items():
            out[key(target, name, region)] = {**entry, "region": region}
            if region == target.region and entry.get("url"):
                primary_urls[name] = str(entry["url"])
    return ServicesResult(out)


def _with_urls(sub: Plan, primary: Mapping[str, str]) -> Plan:
    """A region's plan whose services refer to a service not running there gets the primary region's URL."""
    changes = []
    for change in sub.changes:
        p = change.payload
        if isinstance(p, ServicePlan):
            urls = dict(primary) | dict(p.settings.urls)
            p = dataclasses.replace(p, settings=dataclasses.replace(p.settings, urls=tuple(sorted(urls.items()))))
        changes.append(dataclasses.replace(change, payload=p))
    return Plan.of(sub.step, changes, sub.notes, sub.blockers)


# -- rollback, promote, status ------------------------------------------------------------------------


def plan_rollback(ctx: StepContext, services: Iterable[str] = (), to_revision: str | None = None) -> Plan:
    if not is_multi(ctx.target):
        return traffic.plan_rollback(ctx, services, to_revision)
    asked = list(services)
    names = asked or deploy.selected_services(ctx.target, ())

    def one(regional: StepContext, here: list[str]) -> Plan:
        # Without names, each region goes back from its own last release.
        return traffic.plan_rollback(regional, here if asked else (), to_revision)

    if to_revision is None:
        return _each_region(ctx, names, one, traffic.ROLLBACK)
    # Revision names are per region: --to REV moves the one region that has it.
    plans: dict[str, Plan] = {}
    refused: list[UsageError] = []
    for region, here in _by_region(ctx.target, names).items():
        try:
            plans[region] = one(regional_context(ctx, region), here)
        except UsageError as exc:
            refused.append(exc)
    if not plans:
        raise refused[0]
    return _merge(traffic.ROLLBACK, ctx.target, plans)


def release_rollback(ctx: StepContext) -> ReleaseRollback:
    """The services' newest release and the plan rolling it back (`shipit rollback` with no name)."""
    if not is_multi(ctx.target):
        return traffic.release_rollback(ctx)
    names = deploy.selected_services(ctx.target, ())
    found = {r: traffic.release_rollback(regional_context(ctx, r)) for r in _by_region(ctx.target, names)}
    newest = max((f.release for f in found.values()), default="")

    def plan_for(release: str) -> Plan:
        # Each region goes back from its own last release, as `rollback` does without workers; none does
        # when the release to roll back is newer than every service's (it holds only workers).
        if not release or release > newest:
            return Plan.of(traffic.ROLLBACK, ())
        plans = {r: f.plan_for(f.release) for r, f in found.items() if f.release}
        return _merge(traffic.ROLLBACK, ctx.target, plans)

    return ReleaseRollback(newest, plan_for)


def plan_promote(ctx: StepContext, services: Iterable[str] = ()) -> Plan:
    if not is_multi(ctx.target):
        return traffic.plan_promote(ctx, services)
    names = deploy.selected_services(ctx.target, services)
    return _each_region(ctx, names, traffic.plan_promote, traffic.PROMOTE)


def apply_traffic(ctx: StepContext, plan: Plan) -> dict[str, dict[str, Any]]:
    if not any(isinstance(c.payload, Regional) for c in plan.changes):
        return traffic.apply_traffic(ctx, plan)
    out: dict[str, dict[str, Any]] = {}
    for region in _regions_of(plan, ctx.target):
        done = traffic.apply_traffic(regional_context(ctx, region), _sub_plan(plan, region))
        out |= {key(ctx.target, n, region): v | {"region": region} for n, v in done.items()}
    return out


def status(ctx: StepContext, services: Iterable[str] = ()) -> list[traffic.ServiceStatus]:
    if not is_multi(ctx.target):
        return traffic.status(ctx, services)
    target = ctx.target
    names = deploy.selected_services(target, services)
    rows = []
    by_region = _by_region(target, names)
    others = [n for r, here in by_region.items() if r != target.region for n in here]
    primary_urls = _live_urls(ctx, deploy.referenced_services(target, others)) if others else {}
    for region, here in by_region.items():
        elsewhere = {n: u for n, u in primary_urls.items() if region not in target.service_regions(n)}
        for row in traffic.status(regional_context(ctx, region), here, tuple(sorted(elsewhere.items()))):
            rows.append(dataclasses.replace(row, name=key(target, row.name, region)))
    return rows


def _live_urls(ctx: StepContext, names: Iterable[str]) -> dict[str, str]:
    """The URLs of ``names`` in the primary region, as live (reads only)."""
    from shipit.names import location_parent

    if ctx.options.offline:  # an offline plan reads nothing: as if nothing were deployed
        return {}
    parent = location_parent(ctx.target.project, ctx.target.region)
    out = {}
    for name in sorted(names):
        live = ctx.remote.run.get_service(f"{parent}/services/{name}")
        if live and live.get("uri"):
            out[name] = str(live["uri"])
    return out
