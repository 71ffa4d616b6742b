"""Step "workers": every ``kind: worker`` service as a Cloud Run worker pool, safely.

plan() renders each worker pool from the same inputs a service gets (image, secrets pinned to the synced
versions, Terraform outputs; :mod:`shipit.steps.services.inputs`) and diffs it field by field against
the live one: an unchanged worker makes no write. apply() writes each change with the etag read during
planning (a concurrent change fails, never overwrites) and waits for the operation: the new revision
Ready. Instances follow the latest *ready* revision, so a revision that fails leaves them where they
were, and the step exits 1 saying why. With ``--canary N`` only N% of the instances move to the new
revision (an instance split); a later plain deploy moves the rest.

Output: apply() returns {worker: {"action", "revision", "release", "instances", "ok"}}.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.errors import RemoteError, ShipitError, UsageError
from shipit.names import GIT_SHA_LABEL, MANAGED_BY, MANAGER, RELEASE_LABEL
from shipit.plan import Action, Change, FieldDiff, FrozenJson, Plan, freeze_json, thaw_json
from shipit.render.cloudrun import RenderError
from shipit.render.workerpool import LATEST, REVISION, render_worker_pool, settled_split
from shipit.results import ServicesResult, WorkersResult
from shipit.steps.resolver import earlier
from shipit.steps.services import (
    LIST_FROM,
    DeployOptions,
    Resolver,
    location_parent,
    referenced_services,
    short_revision,
    spec_diff,
    with_release_labels,
)
from shipit.steps.workers.api import Json, OfflineWorkerPools, WorkerPoolApi

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext

STEP = "workers"
__all__ = ["STEP", "WorkerFailed", "apply", "plan", "worker_names"]


class WorkerFailed(ShipitError):
    """A worker pool's new revision did not become Ready; its instances stayed on the previous one."""


@dataclass(frozen=True)
class WorkerPlan:
    """Payload of one worker's Change: what apply() needs (data only; apply() gets the client itself)."""

    name: str
    full_name: str
    live: FrozenJson | None
    desired: FrozenJson  # spec without instance splits, normalized
    split: tuple[FrozenJson, ...]  # the instance splits to write
    spec_changed: bool
    pending: tuple[str, ...] = ()


@dataclass(frozen=True)
class Release:
    """This run's release labels and rollout option, shared by every worker's plan."""

    release_id: str
    git_sha: str
    canary: int | None


def worker_names(target: Target) -> list[str]:
    return [n for n, s in target.config.services.items() if s.kind == "worker"]


def pool_name(target: Target, name: str) -> str:
    return f"{location_parent(target)}/workerPools/{name}"


def read_pools(ctx: StepContext, names: list[str]) -> dict[str, Json | None]:
    """The live worker pool of each name (None: not deployed). Like the services step, from LIST_FROM
    workers on one paginated list of the region's worker pools replaces a GET each; only NAMES are kept."""
    api, target = worker_api_for(ctx), ctx.target
    if len(names) < LIST_FROM:
        return {n: api.get_worker_pool(pool_name(target, n)) for n in names}
    wanted = {pool_name(target, n): n for n in names}
    listed = {wanted[p["name"]]: p for p in api.list_worker_pools(location_parent(target)) if p.get("name") in wanted}
    return {n: listed.get(n) for n in names}


def worker_api_for(ctx: StepContext) -> WorkerPoolApi:
    if ctx.options.offline:
        return OfflineWorkerPools()
    return ctx.remote.worker_pools


def _split_key(split: Any) -> list[tuple[str, str, int]]:
    return sorted(
        (
            "revision" if s.get("revision") else "latest",
            short_revision(s.get("revision")),
            int(s.get("percent", 0)),
        )
        for s in split
    )


def split_display(split: Any) -> str:
    return ", ".join(f"{p}% {r or 'latest'}" for _, r, p in _split_key(split)) or "(none)"


def _urls(ctx: StepContext, names: set[str]) -> dict[str, str]:
    """URLs of the services the workers' env refers to: from this run's services step, else read."""
    services = earlier(ctx, ServicesResult)
    deployed: Mapping[str, Mapping[str, Any]] = services.services if services is not None else {}
    urls = {n: str(r["url"]) for n, r in deployed.items() if r.get("url")}
    missing = sorted(n for n in names if n not in urls)
    if missing and not ctx.options.offline:
        run = ctx.remote.run
        for name in missing:
            live = run.get_service(f"{location_parent(ctx.target)}/services/{name}")
            if live and live.get("uri"):
                urls[name] = str(live["uri"])
    return urls


def _live_labels(live: Json | None) -> tuple[str, str] | None:
    labels = ((live or {}).get("template") or {}).get("labels") or {}
    if RELEASE_LABEL in labels and GIT_SHA_LABEL in labels:
        return labels[RELEASE_LABEL], labels[GIT_SHA_LABEL]
    return None


def _desired_split(live: Json | None, spec_changed: bool, canary: int | None) -> list[Json]:
    ready = short_revision((live or {}).get("latestReadyRevision"))
    if canary is None or not spec_changed or not ready:
        return settled_split()
    return [{"type": REVISION, "revision": ready, "percent": 100 - canary}, {"type": LATEST, "percent": canary}]


def _plan_one(release: Release, resolver: Resolver, api: WorkerPoolApi, name: str, live: Json | None) -> Change:
    target = resolver.target
    service = target.config.services[name]
    # A URL not known yet (a service this release creates): planned with a placeholder; the pipeline
    # re-plans this step after the services step, and apply() refuses a plan that still lacks it.
    inputs, pending = resolver.inputs(name, service, live)
    try:
        spec = render_worker_pool(service, inputs)
    except RenderError as exc:
        raise UsageError(f"services.{name}.{exc}", hint=f"edit {target.config_file}") from None
    previous = _live_labels(live)
    desired = api.normalize(with_release_labels(spec, *(previous or (release.release_id, release.git_sha))))
    diffs: list[FieldDiff] = []
    if live is not None:
        # A worker pool's scaling is its instance count, compared on its own just below.
        diffs = spec_diff(
            {k: v for k, v in desired.items() if k != "scaling"}, {k: v for k, v in live.items() if k != "scaling"}
        )
        want = (desired.get("scaling") or {}).get("manualInstanceCount", 0)
        have = (live.get("scaling") or {}).get("manualInstanceCount", 0)
        if want != have:
            diffs.append(FieldDiff("instances", str(have), str(want)))
    failed = live is not None and live.get("latestCreatedRevision") != live.get("latestReadyRevision")
    spec_changed = live is None or bool(diffs) or failed
    if spec_changed and previous is not None:
        desired = api.normalize(with_release_labels(spec, release.release_id, release.git_sha))
    split = _desired_split(live, spec_changed and live is not None, release.canary)
    if live is not None and _split_key(split) != _split_key(live.get("instanceSplits") or settled_split()):
        diffs.append(FieldDiff("instance splits", split_display(live.get("instanceSplits", [])), split_display(split)))
    if failed and live is not None:
        diffs.append(
            FieldDiff("revision", short_revision(live.get("latestCreatedRevision")) + " (failed)", "a new one")
        )
    payload = WorkerPlan(
        name,
        pool_name(target, name),
        None if live is None else freeze_json(live),
        freeze_json(desired),
        tuple(freeze_json(s) for s in split),
        spec_changed,
        tuple(pending),
    )
    after = f", after {', '.join(pending)}" if pending else ""
    count = (desired.get("scaling") or {}).get("manualInstanceCount", 0)
    if live is None:
        return Change(
            STEP, Action.CREATE, f"worker {name}", f"new worker pool, {count} instance(s){after}", (), payload
        )
    if not diffs:
        return Change(STEP, Action.NOOP, f"worker {name}", "", (), payload)
    summary = ("new revision" if spec_changed else "no new revision") + after
    return Change(STEP, Action.UPDATE, f"worker {name}", summary, tuple(diffs), payload)


def plan(ctx: StepContext) -> Plan:
    """Read every worker pool, render the desired ones, diff. No writes."""
    from shipit.steps.release import git_sha

    target = ctx.target
    names = worker_names(target)
    if not names:
        return Plan.of(STEP, ())
    canary = ctx.options.canary
    if canary is not None and not 0 < canary < 100:
        raise UsageError(f"--canary {canary}: must be between 1 and 99", hint="use e.g. --canary 10")
    pools = worker_api_for(ctx)
    referenced = referenced_services(target, names)
    # The run's release id: services and workers deployed together go back together (`shipit rollback`).
    release = Release(ctx.release_id, git_sha(target.root), canary)
    notes: set[str] = set()
    resolver = Resolver(ctx, DeployOptions(canary=canary), _urls(ctx, referenced), notes)
    lives = read_pools(ctx, names)
    changes = [_plan_one(release, resolver, pools, n, lives[n]) for n in names]
    if canary is not None:
        notes.add(f"canary: {canary}% of each changed worker pool's instances move to its new revision")
    return Plan.of(STEP, changes, sorted(notes))


def _result(name: str, pool: FrozenJson, action: str, ok: bool = True, message: str | None = None) -> dict[str, Any]:
    labels = (pool.get("template") or {}).get("labels") or {}
    out: dict[str, Any] = {
        "name": name,
        "action": action,
        "ok": ok,
        "revision": short_revision(pool.get("latestReadyRevision")) or None,
        "release": labels.get(RELEASE_LABEL),
        "instances": (pool.get("scaling") or {}).get("manualInstanceCount", 0),
        "message": message,
    }
    return {k: v for k, v in out.items() if v is not None}


def _failure(pool: FrozenJson, error: str | None) -> str | None:
    created, ready = pool.get("latestCreatedRevision"), pool.get("latestReadyRevision")
    if error is None and created and created == ready:
        return None
    cond = pool.get("terminalCondition") or {}
    reason = error or str(cond.get("message") or "the new revision is not ready")
    previous = short_revision(ready)
    where = f"instances stay on {previous}" if previous and ready != created else "no instance runs it"
    return f"revision {short_revision(created)} failed: {reason} ({where})"


def _apply_one(ctx: StepContext, api: WorkerPoolApi, change: Change) -> dict[str, Any]:
    p: WorkerPlan = change.payload
    if change.is_noop:
        return _result(p.name, p.live or {}, "no-op")
    if p.pending:
        missing = ", ".join(p.pending)
        return _result(p.name, p.live or {}, "skip", ok=False, message=f"needs the URL of {missing}, not deployed")
    body = {**thaw_json(p.desired), "instanceSplits": [thaw_json(s) for s in p.split]}
    if p.live is None:
        ctx.console.info(f"{p.name}: creating the worker pool")
        result = api.create_worker_pool(location_parent(ctx.target), p.name, body)
        action = "create"
    else:
        ctx.console.info(f"{p.name}: " + ("rolling out a new revision" if p.spec_changed else "updating"))
        result = api.update_worker_pool(body | {"name": p.full_name, "etag": p.live.get("etag")})
        action = "update"
    failure = _failure(result.service, result.error) if p.spec_changed else result.error
    if failure:
        return _result(p.name, result.service, action, ok=False, message=failure)
    return _result(p.name, result.service, action)


def apply(ctx: StepContext, plan: Plan) -> WorkersResult:
    """Roll out the planned changes one worker at a time. Raises WorkerFailed (exit 1)."""
    results: dict[str, dict[str, Any]] = {}
    api = worker_api_for(ctx)
    for change in plan.changes:
        if not isinstance(change.payload, WorkerPlan):
            continue
        name = change.payload.name
        try:
            results[name] = _apply_one(ctx, api, change)
        except (RemoteError, UsageError) as exc:
            results[name] = {"name": name, "action": change.action.value, "ok": False, "message": exc.render()}
        result = results[name]
        ctx.console.event("worker", **result)
        if not result["ok"]:
            ctx.console.error(f"{name}: {result['message']}")
        elif result["action"] != "no-op":
            ctx.console.success(f"{name}: {result['action']}d, revision {result.get('revision')} running")
    failed = sorted(n for n, r in results.items() if not r["ok"])
    if failed:
        raise WorkerFailed(
            results[failed[0]]["message"] if len(failed) == 1 else f"worker pools failed: {', '.join(failed)}"
        )
    return WorkersResult(results)


def status(ctx: StepContext) -> list[dict[str, Any]]:
    """Each worker pool as deployed: revision, instances, splits, release (read-only; one list from LIST_FROM on)."""
    rows = []
    for name, live in read_pools(ctx, worker_names(ctx.target)).items():
        if live is None:
            rows.append({"name": name, "kind": "worker", "deployed": False})
            continue
        row = _result(name, live, "status")
        row.pop("action")
        labels = live.get("labels") or {}
        row.update(
            kind="worker",
            deployed=True,
            managed=labels.get(MANAGED_BY) == MANAGER,
            splits=split_display(live.get("instanceSplitStatuses") or live.get("instanceSplits") or []),
            ready=(live.get("terminalCondition") or {}).get("state") == "CONDITION_SUCCEEDED",
        )
        rows.append(row)
    return rows
