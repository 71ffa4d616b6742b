"""Step "services": create or update every Cloud Run service from shipit.yaml, safely.

plan() resolves each service's inputs (:mod:`shipit.steps.services.inputs`, which lists them) and diffs the
desired service against the live one; apply() rolls the changes out wave by wave
(:mod:`shipit.steps.services.rollout`, which says how it stays safe).

Output: apply() returns a :class:`shipit.results.ServicesResult`, {service: {"action", "url", "revision",
"release"}}; the pipeline keeps it for verify and in the state file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from shipit.concurrency import bounded_map
from shipit.config.checks import deploy_order
from shipit.config.refs import parse_refs
from shipit.errors import NotFound, ShipitError, UsageError
from shipit.names import GIT_SHA_LABEL, RELEASE_LABEL
from shipit.plan import Action, Change, FieldDiff, Plan, freeze_json
from shipit.render.cloudrun import settled_traffic
from shipit.results import ServicesResult
from shipit.steps.services.api import Json, OfflineRun, RunApi
from shipit.steps.services.diff import creates_revision, short_revision, spec_diff, traffic_diff
from shipit.steps.services.inputs import Resolver, desired_service, with_release_labels
from shipit.steps.services.invokers import change_for
from shipit.steps.services.progress import WaveProgress
from shipit.steps.services.rollout import DeployFailed, Rollout, ServiceResult
from shipit.steps.services.shared import DeployOptions, RunSettings, ServicePlan, full_name, location_parent

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext

# The step's interface: the pipeline calls plan() and apply(); callers of plan() pass DeployOptions.
__all__ = ["STEP", "DeployOptions", "apply", "plan"]

STEP = "services"
K = TypeVar("K")
V = TypeVar("V")


# -- planning ----------------------------------------------------------------------------------------


def _live_labels(live: Json | None) -> tuple[str, str] | None:
    labels = ((live or {}).get("template") or {}).get("labels") or {}
    if RELEASE_LABEL in labels and GIT_SHA_LABEL in labels:
        return labels[RELEASE_LABEL], labels[GIT_SHA_LABEL]
    return None


def _latest_failed(live: Json | None) -> bool:
    if not live:
        return False
    created, ready = live.get("latestCreatedRevision"), live.get("latestReadyRevision")
    return bool(created) and created != ready


def _plan_service(
    api: RunApi, settings: RunSettings, resolver: Resolver, name: str, live: Json | None, policy: Json | None
) -> Change:
    target = resolver.target
    spec, pending = desired_service(resolver, name, live)
    previous = _live_labels(live)
    labelled = with_release_labels(spec, *(previous or (settings.release_id, settings.git_sha)))
    desired = api.normalize(labelled)
    diffs: list[FieldDiff] = [] if live is None else spec_diff(desired, live)
    retry_failed = not diffs and _latest_failed(live)
    spec_changed = live is None or bool(diffs) or retry_failed
    # A new revision carries the new release's labels; a service-level change keeps the serving release's.
    if (retry_failed or creates_revision(diffs)) and previous is not None:
        desired = api.normalize(with_release_labels(spec, settings.release_id, settings.git_sha))
    t_diff = None if live is None else traffic_diff(settled_traffic(), live.get("traffic", []))
    # An existing service whose policy could not be read: add what is missing, never remove blindly.
    invokers = change_for(target, name, policy, removals=live is None or policy is not None)
    all_diffs = list(diffs)
    if retry_failed and live is not None:
        all_diffs.append(
            FieldDiff("revision", short_revision(live.get("latestCreatedRevision")) + " (failed)", "a new revision")
        )
    if t_diff is not None:
        all_diffs.append(t_diff)
    all_diffs.extend(invokers.diffs())
    payload = ServicePlan(
        name=name,
        full_name=full_name(target, name),
        live=None if live is None else freeze_json(live),
        policy=None if policy is None else freeze_json(policy),
        desired=freeze_json(desired),
        spec_changed=spec_changed,
        traffic_changed=t_diff is not None,
        invokers=invokers,
        retry_failed=retry_failed,
        pending_refs=tuple(pending),
        settings=settings,
    )
    if live is None:
        summary = "new service" + (f" ({invokers.audience()})" if invokers else "")
        if pending:
            summary += f", after {', '.join(pending)}"
        return Change(STEP, Action.CREATE, f"service {name}", summary, (), payload)
    if not all_diffs and not pending:
        return Change(STEP, Action.NOOP, f"service {name}", "", (), payload)
    # Service-level fields (scaling, IAP, description, ...) change without a revision.
    summary = "new revision" if retry_failed or creates_revision(diffs) else "no new revision"
    if pending:
        summary += f", after {', '.join(pending)}"
    return Change(STEP, Action.UPDATE, f"service {name}", summary, tuple(all_diffs), payload)


def selected_services(target: Target, services: Iterable[str]) -> list[str]:
    names = list(services)
    # Workers (kind: worker) are worker pools, deployed by the workers step.
    known = [n for n, s in target.config.services.items() if s.kind == "service"]
    for name in names:
        if name not in known:
            from shipit.config.checks import did_you_mean

            if name in target.config.services:
                raise UsageError(
                    f"'{name}' is a worker (a worker pool), not a service", hint="deploy it with the workers step"
                )
            raise UsageError(
                f"service '{name}' is not defined in {target.config_file}",
                hint=did_you_mean(name, known) or f"defined: {', '.join(known)}",
            )
    return names or known


def referenced_services(target: Target, names: Iterable[str]) -> set[str]:
    """The services whose URL the env of ``names`` refers to (``${services.X.url}``)."""
    return {
        r.name
        for n in names
        for v in target.config.services[n].env.values()
        for r in parse_refs(v)
        if r.kind == "services"
    }


def parallel_by_item(fn: Callable[[K], V], items: list[K], workers: int) -> dict[K, V]:
    """fn over items, at most ``workers`` at a time; results keyed by item, exceptions re-raised."""
    return dict(zip(items, bounded_map(fn, items, workers, name="run"), strict=True))


# From this many services on, the plan lists the region's services once (a paginated list, 1 call per 100s of
# services) instead of one GET per service: a 200-service re-deploy reads in 2 round trips, not 20 batches.
LIST_FROM = 8


def read_services(api: RunApi, target: Target, names: list[str], concurrency: int) -> dict[str, Json | None]:
    """The live service of each name (None: not deployed). Only the services asked for are kept."""
    if len(names) < LIST_FROM:
        return parallel_by_item(lambda n: api.get_service(full_name(target, n)), names, concurrency)
    wanted = {full_name(target, n): n for n in names}
    found = {wanted[s["name"]]: s for s in api.list_services(location_parent(target)) if s.get("name") in wanted}
    return {n: found.get(n) for n in names}


def plan(ctx: StepContext, options: DeployOptions | None = None) -> Plan:
    """Read every selected service (and its IAM policy), render the desired ones, diff. No writes."""
    from shipit.steps.release import git_sha

    options = options or DeployOptions(staged=ctx.options.staged, canary=ctx.options.canary)
    if options.canary is not None and not 0 < options.canary < 100:
        raise UsageError(f"--canary {options.canary}: must be between 1 and 99", hint="use e.g. --canary 10")
    target = ctx.target
    names = selected_services(target, options.services)
    run_api = _run_api(ctx)
    release_id = options.release_id or ctx.release_id
    sha = options.git_sha or git_sha(target.root)
    waves = tuple(tuple(n for n in wave if n in names) for wave in deploy_order(target.config))
    # Every service read, also those only referenced, for their URLs. Reads run in parallel:
    # the service and its IAM policy are independent calls.
    referenced = referenced_services(target, names)
    to_read = sorted(set(names) | referenced)
    lives = read_services(run_api, target, to_read, ctx.options.concurrency)

    def read_policy(name: str) -> Json | None:
        try:
            return run_api.get_iam_policy(full_name(target, name))
        except NotFound:
            return None

    # A service that does not exist yet has no policy to read.
    policies = parallel_by_item(read_policy, [n for n in names if lives[n] is not None], ctx.options.concurrency)
    urls = dict(options.urls) | {n: str(live["uri"]) for n, live in lives.items() if live and live.get("uri")}
    settings = RunSettings(options, release_id, sha, waves, tuple(sorted(urls.items())))
    notes: set[str] = set()
    resolver = Resolver(ctx, options, urls, notes)
    changes = []
    for wave in waves:
        for name in wave:
            live = lives[name]
            policy = policies.get(name)
            changes.append(_plan_service(run_api, settings, resolver, name, live, policy))
    if options.canary is not None or options.staged:
        notes.add(
            f"staged rollout: new revisions get no traffic under tag '{options.tag}' until the health check passes"
            + (f", then {options.canary}% (finish with `shipit promote`)" if options.canary else "")
        )
    return Plan.of(STEP, changes, sorted(notes))


# -- applying ----------------------------------------------------------------------------------------


def _run_api(ctx: StepContext) -> RunApi:
    # An offline plan answers as an empty project, and refuses to be applied.
    return OfflineRun() if ctx.options.offline else ctx.remote.run


class _SharedResolver:
    """One Resolver for the whole apply, built by the first service that re-renders (``${services.X.url}``)."""

    def __init__(self, ctx: StepContext, options: DeployOptions) -> None:
        import threading

        self._ctx, self._options = ctx, options
        self._lock = threading.Lock()
        self._resolver: Resolver | None = None

    def get(self) -> Resolver:
        with self._lock:
            if self._resolver is None:
                self._resolver = Resolver(self._ctx, self._options, {}, set())
            return self._resolver


def apply(ctx: StepContext, plan: Plan) -> ServicesResult:
    """Roll out the planned changes wave by wave (parallel within a wave). Raises DeployFailed (exit 1).

    The URL of each service deployed by a wave is handed to the next waves (``${services.X.url}``)."""
    changes = {c.payload.name: c for c in plan.changes if isinstance(c.payload, ServicePlan)}
    if not changes:
        return ServicesResult()
    settings = next(iter(changes.values())).payload.settings
    api = _run_api(ctx)
    urls = dict(settings.urls)
    results: dict[str, ServiceResult] = {}
    failed: set[str] = set()
    base = _SharedResolver(ctx, settings.options)

    def one(name: str, known: Mapping[str, str]) -> ServiceResult:
        change = changes[name]
        payload: ServicePlan = change.payload
        blocked = [d for d in payload.pending_refs if d in failed]
        if blocked:
            return ServiceResult(name, "skip", False, message=f"not deployed: {', '.join(blocked)} failed")
        rollout = Rollout(ctx, api, change, known, resolver=lambda: base.get().with_urls(known))
        if change.is_noop:
            return rollout.unchanged()
        try:
            return rollout.run()
        except ShipitError as exc:
            return ServiceResult(name, change.action.value, False, message=exc.render())

    waves = [[n for n in wave if n in changes] for wave in settings.waves]
    progress = WaveProgress(ctx.console, waves, project=ctx.target.project, region=ctx.target.region)

    def tracked(name: str, known: Mapping[str, str]) -> ServiceResult:
        result = one(name, known)
        progress.service_done(result.action, result.ok)
        return result

    with progress:
        for todo in waves:
            if todo:
                _wave(ctx, progress, todo, urls, tracked, results, failed)
    return _outcome(results, failed)


def _wave(
    ctx: StepContext,
    progress: WaveProgress,
    todo: list[str],
    urls: dict[str, str],
    one: Callable[[str, Mapping[str, str]], ServiceResult],
    results: dict[str, ServiceResult],
    failed: set[str],
) -> None:
    """One wave, its services in parallel; the URLs it deployed are added to ``urls`` for the next waves."""
    progress.start_wave(todo)
    known = MappingProxyType(dict(urls))  # this wave reads the URLs of the waves before it
    try:
        wave_results = parallel_by_item(lambda name: one(name, known), todo, ctx.options.concurrency)
    finally:
        progress.finish_wave()
    for name, result in wave_results.items():
        results[name] = result
        if result.ok and result.url:
            urls[name] = result.url
        if result.ok:
            if result.action != "no-op":
                where = f" {result.url}" if result.url else ""
                ctx.console.success(f"{name}: {result.action}d, revision {result.revision} serving{where}")
            ctx.console.event("service", **result.to_json())
        else:
            failed.add(name)
            ctx.console.error(f"{name}: {result.message}")
            ctx.console.event("service", **result.to_json())


def _outcome(results: Mapping[str, ServiceResult], failed: set[str]) -> ServicesResult:
    out = ServicesResult({n: r.to_json() for n, r in results.items()})
    if failed:
        first = next(r for r in results.values() if not r.ok)
        message = f"{len(failed)} of {len(results)} service(s) failed to deploy: {', '.join(sorted(failed))}"
        if len(failed) == 1 and first.message:
            message = f"{first.name}: {first.message}"
        raise DeployFailed(message)
    return out
