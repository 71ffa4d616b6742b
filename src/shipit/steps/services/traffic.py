"""After a deploy: `shipit status`, `shipit rollback` and `shipit promote` (Cloud Run traffic only).

Rollback and promote change nothing but the traffic split, guarded by the service's etag, so they
never create a revision. Rollback picks, per service, the newest Ready revision older than the one
serving; by default for every service whose serving revision belongs to the last release (the
``shipit-release`` label), so a release with several services goes back together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.errors import ShipitError, UsageError
from shipit.names import GIT_SHA_LABEL, PREVIEW_LABEL, RELEASE_LABEL
from shipit.plan import Action, Change, FieldDiff, FrozenJson, Plan, freeze_json, thaw_json
from shipit.render.cloudrun import REVISION, kept_tags, settled_traffic
from shipit.steps.release import ReleaseRollback
from shipit.steps.services.api import Json, RunApi
from shipit.steps.services.deploy import parallel_by_item, selected_services
from shipit.steps.services.diff import short_revision, traffic_diff, traffic_display
from shipit.steps.services.rollout import serving_traffic, write_traffic
from shipit.steps.services.shared import DeployOptions, full_name

if TYPE_CHECKING:
    from shipit.steps.context import StepContext

ROLLBACK = "rollback"
PROMOTE = "promote"


def _ready(revision: Json) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("state") == "CONDITION_SUCCEEDED" for c in revision.get("conditions", [])
    )


def _current(service: Json) -> str | None:
    """The revision that serves the most traffic."""
    serving = serving_traffic(service)
    if not serving:
        return None
    return str(max(serving, key=lambda t: int(t["percent"]))["revision"])


@dataclass(frozen=True)
class _TrafficPayload:
    name: str
    service: FrozenJson  # as read while planning: its etag guards the write
    traffic: tuple[FrozenJson, ...]


def _payload(name: str, service: Json, traffic: tuple[Json, ...]) -> _TrafficPayload:
    return _TrafficPayload(name, freeze_json(service), tuple(freeze_json(t) for t in traffic))


_State = dict[str, tuple[Json | None, list[Json]]]


def _read(ctx: StepContext, api: RunApi, names: list[str], revisions: bool) -> _State:
    target = ctx.target

    def one(name: str) -> tuple[Json | None, list[Json]]:
        service = api.get_service(full_name(target, name))
        if service is None or not revisions:
            return service, []
        revs = api.list_revisions(full_name(target, name))
        return service, sorted(revs, key=lambda r: str(r.get("createTime", "")), reverse=True)

    return parallel_by_item(one, names, ctx.options.concurrency)


# -- rollback -----------------------------------------------------------------------------------------


def plan_rollback(ctx: StepContext, services: Iterable[str] = (), to_revision: str | None = None) -> Plan:
    target = ctx.target
    asked = list(services)
    if to_revision and len(asked) != 1:
        owner = [n for n in target.config.services if to_revision.startswith(n + "-")]
        if len(owner) != 1 or (asked and asked != owner):
            raise UsageError(f"--to {to_revision}: name exactly one service", hint="`shipit rollback SERVICE --to REV`")
        asked = owner
    if not asked:
        found = release_rollback(ctx)
        if not found.release:
            raise ShipitError("nothing to roll back: no service was deployed by shipit yet")
        return found.plan_for(found.release)
    reads = _Reads.of(ctx, selected_services(target, asked))
    return Plan.of(ROLLBACK, [reads.change(name, to_revision) for name in reads.names])


def release_rollback(ctx: StepContext) -> ReleaseRollback:
    """The newest release serving among the services, and the plan rolling back a release's services."""
    reads = _Reads.of(ctx, selected_services(ctx.target, ()))
    releases = {n: reads.release_of(n) for n in reads.current}

    def plan_for(release: str) -> Plan:
        names = sorted(n for n, r in releases.items() if release and r == release)
        notes = [f"rolling back release {release}: {', '.join(names)}"] if names else []
        return Plan.of(ROLLBACK, [reads.change(name, None) for name in names], notes)

    return ReleaseRollback(max((r for r in releases.values() if r), default=""), plan_for)


@dataclass(frozen=True)
class _Reads:
    """Each service with its revisions (newest first), read once for a rollback plan."""

    names: list[str]
    state: _State
    by_rev: dict[str, dict[str, Json]]
    current: dict[str, str | None]

    @classmethod
    def of(cls, ctx: StepContext, names: list[str]) -> _Reads:
        state = _read(ctx, ctx.remote.run, names, revisions=True)
        by_rev = {n: {short_revision(r["name"]): r for r in revs} for n, (_, revs) in state.items()}
        current = {n: _current(s) for n, (s, _) in state.items() if s is not None}
        return cls(names, state, by_rev, current)

    def release_of(self, name: str) -> str:
        rev = self.by_rev[name].get(self.current.get(name) or "")
        return str(((rev or {}).get("labels") or {}).get(RELEASE_LABEL, ""))

    def change(self, name: str, to_revision: str | None) -> Change:
        service, revs = self.state[name]
        by_rev = self.by_rev[name]
        if service is None:
            raise ShipitError(f"nothing to roll back: service {name} is not deployed")
        serving = self.current.get(name)
        if to_revision:
            chosen = by_rev.get(to_revision)
            if chosen is None:
                known = ", ".join(by_rev) or "(none)"
                raise UsageError(f"service {name} has no revision {to_revision}", hint=f"revisions: {known}")
            if not _ready(chosen):
                raise ShipitError(f"revision {to_revision} is not Ready; it cannot serve traffic")
        else:
            serving_rev = by_rev.get(serving or "")
            since = str((serving_rev or {}).get("createTime", "~"))
            # A preview's revision (`deploy --preview`) was never a release: never a rollback target.
            older = [
                r
                for r in revs
                if _ready(r) and str(r.get("createTime", "")) < since and PREVIEW_LABEL not in (r.get("labels") or {})
            ]
            if not older:
                raise ShipitError(
                    f"nothing to roll back to for {name}: {serving or 'no revision'} is its oldest ready revision",
                    hint="deploy a fixed version instead",
                )
            chosen = older[0]
        rev_id = short_revision(chosen["name"])
        # Previews' tags stay (each on its own revision, no traffic); a staged rollout's tag goes with it.
        previews = [
            t
            for t in kept_tags(service.get("traffic", []), service.get("latestReadyRevision"))
            if ((by_rev.get(t["revision"]) or {}).get("labels") or {}).get(PREVIEW_LABEL) == t["tag"]
        ]
        traffic: tuple[Json, ...] = ({"type": REVISION, "revision": rev_id, "percent": 100}, *previews)
        label = (chosen.get("labels") or {}).get(RELEASE_LABEL)
        summary = f"to {rev_id}" + (f" (release {label})" if label else "")
        diff = FieldDiff("traffic", traffic_display(service.get("traffic", [])), traffic_display(list(traffic)))
        if service.get("traffic") == list(traffic):
            return Change(ROLLBACK, Action.NOOP, f"service {name}", summary)
        payload = _payload(name, service, traffic)
        return Change(ROLLBACK, Action.UPDATE, f"service {name}", summary, (diff,), payload)


def apply_traffic(ctx: StepContext, plan: Plan) -> dict[str, dict[str, Any]]:
    """Write each planned traffic split (in parallel), with the etag read while planning."""
    pending = {c.payload.name: c.payload for c in plan.pending if isinstance(c.payload, _TrafficPayload)}
    api = ctx.remote.run

    def one(name: str) -> dict[str, Any]:
        payload = pending[name]
        result = write_traffic(api, thaw_json(payload.service), [thaw_json(t) for t in payload.traffic])
        if result.error:
            raise ShipitError(f"{name}: traffic change failed: {result.error}")
        ctx.console.success(f"{name}: traffic {traffic_display(result.service.get('traffic', []))}")
        return {"traffic": result.service.get("traffic", []), "url": result.service.get("uri")}

    return parallel_by_item(one, sorted(pending), ctx.options.concurrency)


# -- promote ------------------------------------------------------------------------------------------


def plan_promote(ctx: StepContext, services: Iterable[str] = ()) -> Plan:
    run_api = ctx.remote.run
    names = selected_services(ctx.target, services)
    state = _read(ctx, run_api, names, revisions=False)
    changes = []
    for name in names:
        service, _ = state[name]
        if service is None:
            continue
        traffic = service.get("traffic", [])
        # Tags stay valid: a tag on LATEST stays on the revision it names now, at 0%.
        settled = settled_traffic(kept_tags(traffic, service.get("latestReadyRevision")))
        if traffic_diff(settled, traffic) is None:
            changes.append(Change(PROMOTE, Action.NOOP, f"service {name}", "all traffic on the latest revision"))
            continue
        created, ready = service.get("latestCreatedRevision"), service.get("latestReadyRevision")
        if created != ready:
            raise ShipitError(
                f"cannot promote {name}: its newest revision {short_revision(created)} is not Ready",
                hint="fix and deploy again, or `shipit rollback`",
            )
        preview = ((service.get("template") or {}).get("labels") or {}).get(PREVIEW_LABEL)
        if preview:
            raise ShipitError(
                f"cannot promote {name}: its latest revision {short_revision(ready)} is preview {preview}'s",
                hint="deploy the release again, then promote",
            )
        diff = FieldDiff("traffic", traffic_display(traffic), traffic_display(settled))
        payload = _payload(name, service, tuple(settled))
        summary = f"100% to {short_revision(ready)}"
        changes.append(Change(PROMOTE, Action.UPDATE, f"service {name}", summary, (diff,), payload))
    return Plan.of(PROMOTE, changes)


# -- status -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    deployed: bool
    url: str | None = None
    ready_revision: str | None = None
    traffic: tuple[dict[str, Any], ...] = ()
    image: str | None = None
    deployed_at: str | None = None
    git_sha: str | None = None
    release: str | None = None
    drift: tuple[str, ...] = ()
    failed_revision: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["traffic"] = list(self.traffic)
        data["drift"] = list(self.drift)
        return data


def status(
    ctx: StepContext, services: Iterable[str] = (), urls: tuple[tuple[str, str], ...] = ()
) -> list[ServiceStatus]:
    """Live state of each service and how it differs from shipit.yaml (images and secret versions as deployed).

    ``urls``: those of referenced services that run in another region (multi-region environments)."""
    from shipit.steps.services import deploy as run_deploy

    run_api = ctx.remote.run
    names = selected_services(ctx.target, services)
    state = _read(ctx, run_api, names, revisions=False)
    deployed = [n for n in names if state[n][0] is not None]
    drift: dict[str, tuple[str, ...]] = {}
    if deployed:
        plan = run_deploy.plan(ctx, DeployOptions(services=tuple(deployed), git_sha="-", urls=urls))
        for change in plan.changes:
            name = change.resource.removeprefix("service ")
            drift[name] = tuple(d.render() for d in change.diffs)
    ready_revs = parallel_by_item(
        lambda n: (
            run_api.get_revision(str(state[n][0]["latestReadyRevision"]))  # type: ignore[index]
            if state[n][0] and state[n][0].get("latestReadyRevision")  # type: ignore[union-attr]
            else None
        ),
        deployed,
        ctx.options.concurrency,
    )
    out = []
    for name in names:
        service = state[name][0]
        if service is None:
            out.append(ServiceStatus(name, False))
            continue
        rev = ready_revs.get(name) or {}
        labels = rev.get("labels") or {}
        containers = rev.get("containers") or service.get("template", {}).get("containers", [{}])
        created, ready = service.get("latestCreatedRevision"), service.get("latestReadyRevision")
        traffic = []
        for t in service.get("trafficStatuses", []):
            entry = {"revision": t.get("revision") or short_revision(ready), "percent": int(t.get("percent", 0))}
            if t.get("tag"):
                entry |= {"tag": t["tag"], "url": t.get("uri")}
            traffic.append(entry)
        out.append(
            ServiceStatus(
                name,
                True,
                url=service.get("uri"),
                ready_revision=short_revision(ready) or None,
                traffic=tuple(traffic),
                image=containers[0].get("image"),
                deployed_at=rev.get("createTime"),
                git_sha=labels.get(GIT_SHA_LABEL),
                release=labels.get(RELEASE_LABEL),
                drift=drift.get(name, ()),
                failed_revision=short_revision(created) if created and created != ready else None,
            )
        )
    return out
