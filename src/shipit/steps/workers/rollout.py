"""`shipit rollback` and `shipit promote` for workers: a worker pool's instance split, like a service's traffic.

Both change nothing but ``instanceSplits``, guarded by the worker pool's etag, so neither creates a revision.
Rollback moves every instance to the newest Ready revision older than the one running most instances (or
to ``--to REV``); promote moves every instance to the latest ready revision (the end of a ``--canary``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.errors import ShipitError, UsageError
from shipit.names import RELEASE_LABEL
from shipit.plan import Action, Change, FieldDiff, FrozenJson, Plan, freeze_json, thaw_json
from shipit.render.workerpool import REVISION, settled_split
from shipit.steps.release import ReleaseRollback
from shipit.steps.services import short_revision
from shipit.steps.workers.deploy import (
    _split_key,
    pool_name,
    read_pools,
    split_display,
    worker_api_for,
    worker_names,
)

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.steps.context import StepContext
    from shipit.steps.workers.api import Json, WorkerPoolApi

ROLLBACK = "rollback"
PROMOTE = "promote"


@dataclass(frozen=True)
class SplitPayload:
    name: str
    pool: FrozenJson  # as read while planning: its etag guards the write
    split: tuple[FrozenJson, ...]


def selected_workers(target: Target, names: Iterable[str]) -> list[str]:
    """The workers among NAMES (all workers when NAMES is empty)."""
    known = worker_names(target)
    asked = list(names)
    return [n for n in asked if n in known] if asked else known


def _ready(revision: Json) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("state") == "CONDITION_SUCCEEDED" for c in revision.get("conditions", [])
    )


def _running(pool: Json) -> str | None:
    """The revision that runs the most instances (LATEST resolved to the latest ready revision)."""
    latest = short_revision(pool.get("latestReadyRevision"))
    shares: dict[str, int] = {}
    for split in pool.get("instanceSplits") or settled_split():
        revision = split.get("revision") if split.get("type") == REVISION else latest
        if revision:
            shares[revision] = shares.get(revision, 0) + int(split.get("percent", 0))
    return max(shares, key=lambda r: shares[r]) if shares else None


def _change(step: str, name: str, pool: Json, split: list[Json], summary: str) -> Change:
    live = pool.get("instanceSplits") or settled_split()
    if _split_key(split) == _split_key(live):
        return Change(step, Action.NOOP, f"worker {name}", summary)
    diff = FieldDiff("instance splits", split_display(live), split_display(split))
    payload = SplitPayload(name, freeze_json(pool), tuple(freeze_json(s) for s in split))
    return Change(step, Action.UPDATE, f"worker {name}", summary, (diff,), payload)


def _revisions(api: WorkerPoolApi, full: str) -> list[Json]:
    return sorted(api.list_revisions(full), key=lambda r: str(r.get("createTime", "")), reverse=True)


def plan_rollback(ctx: StepContext, names: Iterable[str] = (), to_revision: str | None = None) -> Plan:
    """Each worker back to its previous ready revision (or to ``to_revision``)."""
    selected = selected_workers(ctx.target, names)
    if not selected:
        return Plan.of(ROLLBACK, ())
    reads = _Reads.of(ctx, selected)
    missing = [n for n in selected if n not in reads.state]
    if missing:
        raise ShipitError(f"nothing to roll back: worker {missing[0]} is not deployed")
    return Plan.of(ROLLBACK, [reads.change(n, to_revision) for n in sorted(reads.state)])


def release_rollback(ctx: StepContext) -> ReleaseRollback:
    """The newest release running among the workers, and the plan rolling back a release's workers."""
    reads = _Reads.of(ctx, worker_names(ctx.target))
    releases = {n: reads.release_of(n) for n in reads.state}

    def plan_for(release: str) -> Plan:
        names = sorted(n for n, r in releases.items() if release and r == release)
        notes = [f"rolling back release {release}: workers {', '.join(names)}"] if names else []
        return Plan.of(ROLLBACK, [reads.change(n, None) for n in names], notes)

    return ReleaseRollback(max((r for r in releases.values() if r), default=""), plan_for)


@dataclass(frozen=True)
class _Reads:
    """Each deployed worker pool with its revisions (newest first), read once for a rollback plan."""

    state: dict[str, tuple[Json, list[Json]]]
    by_rev: dict[str, dict[str, Json]]
    running: dict[str, str | None]

    @classmethod
    def of(cls, ctx: StepContext, names: list[str]) -> _Reads:
        api = worker_api_for(ctx)
        pools = read_pools(ctx, names)
        state = {n: (p, _revisions(api, pool_name(ctx.target, n))) for n, p in pools.items() if p is not None}
        by_rev = {n: {short_revision(r["name"]): r for r in revs} for n, (_, revs) in state.items()}
        return cls(state, by_rev, {n: _running(pool) for n, (pool, _) in state.items()})

    def release_of(self, name: str) -> str:
        rev = self.by_rev[name].get(self.running[name] or "") or {}
        return str((rev.get("labels") or {}).get(RELEASE_LABEL, ""))

    def change(self, name: str, to_revision: str | None) -> Change:
        pool, revs = self.state[name]
        by_rev, running = self.by_rev[name], self.running[name]
        if to_revision:
            chosen = by_rev.get(to_revision)
            if chosen is None:
                known = ", ".join(by_rev) or "(none)"
                raise UsageError(f"worker {name} has no revision {to_revision}", hint=f"revisions: {known}")
            if not _ready(chosen):
                raise ShipitError(f"revision {to_revision} is not Ready; it cannot run instances")
        else:
            since = str((by_rev.get(running or "") or {}).get("createTime", "~"))
            older = [r for r in revs if _ready(r) and str(r.get("createTime", "")) < since]
            if not older:
                raise ShipitError(
                    f"nothing to roll back to for worker {name}: "
                    f"{running or 'no revision'} is its oldest ready revision",
                    hint="deploy a fixed version instead",
                )
            chosen = older[0]
        rev_id = short_revision(chosen["name"])
        label = (chosen.get("labels") or {}).get(RELEASE_LABEL)
        split = [{"type": REVISION, "revision": rev_id, "percent": 100}]
        return _change(ROLLBACK, name, pool, split, f"to {rev_id}" + (f" (release {label})" if label else ""))


def plan_promote(ctx: StepContext, names: Iterable[str] = ()) -> Plan:
    """Every instance of each worker on its latest ready revision."""
    target = ctx.target
    selected = selected_workers(target, names)
    if not selected:
        return Plan.of(PROMOTE, ())
    api = worker_api_for(ctx)
    changes = []
    for name in selected:
        pool = api.get_worker_pool(pool_name(target, name))
        if pool is None:
            continue
        change = _change(PROMOTE, name, pool, settled_split(), "all instances on the latest revision")
        if change.action is Action.UPDATE and pool.get("latestCreatedRevision") != pool.get("latestReadyRevision"):
            raise ShipitError(
                f"cannot promote worker {name}: its newest revision "
                f"{short_revision(pool.get('latestCreatedRevision'))} is not Ready",
                hint="fix and deploy again, or `shipit rollback`",
            )
        if change.action is Action.UPDATE:
            ready = short_revision(pool.get("latestReadyRevision"))
            change = _change(PROMOTE, name, pool, settled_split(), f"all instances to {ready}")
        changes.append(change)
    return Plan.of(PROMOTE, changes)


def apply_splits(ctx: StepContext, plan: Plan) -> dict[str, dict[str, Any]]:
    """Write each planned instance split with the etag read while planning; no new revision."""
    pending = [c.payload for c in plan.pending if isinstance(c.payload, SplitPayload)]
    out: dict[str, dict[str, Any]] = {}
    if not pending:
        return out
    api = worker_api_for(ctx)
    for payload in pending:
        pool = thaw_json(payload.pool)
        body = {k: v for k, v in pool.items() if k in ("name", "etag", "labels", "template", "scaling")}
        body["instanceSplits"] = [thaw_json(s) for s in payload.split]
        result = api.update_worker_pool(body)
        if result.error:
            raise ShipitError(f"worker {payload.name}: instance split change failed: {result.error}")
        splits = result.service.get("instanceSplits", [])
        ctx.console.success(f"worker {payload.name}: instances {split_display(splits)}")
        out[payload.name] = {"instance_splits": splits}
    return out
