"""The preview step's plan() and apply() (`shipit deploy --preview NAME`): each service that differs from
the base environment gets a new revision under the traffic tag NAME, with no traffic; every
existing target keeps its traffic.

Per service, in dependency waves: the desired service is rendered with this run's images and, for
``${services.X.url}``, X's preview URL when X is in the preview (its base URL otherwise), then compared with
the revision that serves the base. Only a service whose revision would differ is previewed. Its revision is
named ``SERVICE-NAME-HASH`` from the template, so re-deploying an unchanged preview writes nothing, and
carries the labels ``shipit-preview`` (NAME) and ``shipit-preview-created``.

The write replaces the template and pins the live traffic to named revisions (LATEST would follow the new
revision), guarded by the etag read while planning; the service's own settings (scaling, ingress, IAP...)
stay as they are. Worker pools and jobs are never previewed; migrations only with ``preview.database: branch``
(see :mod:`shipit.steps.preview.database`: the preview's own database, secret and migration, applied before
any service). Services that are not deployed in
the base environment are left out (a preview only adds revisions to existing services).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipit.config.checks import deploy_order
from shipit.errors import ShipitError, UsageError
from shipit.plan import Action, Change, FieldDiff, FrozenJson, Plan, freeze_json, thaw_json
from shipit.remote import Json
from shipit.render.cloudrun import RenderError, SecretRef, render_service
from shipit.steps.preview.database import (
    BranchDatabase,
    apply_branch,
    apply_branch_removal,
    branch_mode,
    job_ids,
    plan_branch,
    plan_branch_removal,
)
from shipit.steps.preview.database import changes as branch_changes
from shipit.steps.preview.inventory import ServiceState, app_services, previews, read_services
from shipit.steps.preview.names import CREATED_LABEL, PREVIEW_LABEL, check_name, revision_id, tag_url
from shipit.steps.preview.outputs import write_outputs
from shipit.steps.preview.removal import apply_removal, plan_removal
from shipit.steps.preview.writes import REVISION, pinned, write, write_fresh
from shipit.steps.services import (
    creates_revision,
    location_parent,
    resolve_inputs,
    short_revision,
    spec_diff,
    with_release_labels,
)

if TYPE_CHECKING:
    from shipit.steps.context import StepContext

STEP = "preview"
# Cloud Run limits (cloud.google.com/run/quotas): revision tags per project and region (past it Cloud Run
# deletes traffic-free tags, oldest first: previews would vanish), revisions per service.
TAG_LIMIT = 2000
REVISION_LIMIT = 1000
NEAR = 0.9
# Revision fields that are the template's (a revision is its template, as Cloud Run made it).
_TEMPLATE_KEYS = (
    "scaling",
    "containers",
    "volumes",
    "serviceAccount",
    "timeout",
    "maxInstanceRequestConcurrency",
    "executionEnvironment",
    "encryptionKey",
    "vpcAccess",
    "sessionAffinity",
    "nodeSelector",
    "healthCheckDisabled",
    "annotations",
)


@dataclass(frozen=True)
class _Payload:
    service: str
    live: FrozenJson  # as read while planning: its etag guards the write
    preview: str
    revision: str  # "" : the service is the same as the base again, its tag goes
    template: FrozenJson | None  # None: the revision exists already, only the tag moves
    url: str
    replaced: str = ""  # the revision the tag was on: deleted once the tag has moved, if nothing else uses it


@dataclass(frozen=True)
class PreviewResult:
    """What `deploy --preview` made: the tag URL of each previewed service (not kept in the state file)."""

    name: str
    urls: dict[str, str] = field(default_factory=dict)
    revisions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"preview": self.name, "urls": dict(self.urls), "revisions": dict(self.revisions)}


def _as_template(revision: Json) -> Json:
    template = {k: revision[k] for k in _TEMPLATE_KEYS if k in revision}
    # Labels Cloud Run adds to a revision carry a domain; the ones shipit and the user set do not.
    labels = {k: v for k, v in (revision.get("labels") or {}).items() if "/" not in k}
    return template | ({"labels": labels} if labels else {})


def _serving(live: Json) -> str | None:
    targets = [t for t in pinned(live) if t.get("percent")]
    return str(max(targets, key=lambda t: int(t["percent"]))["revision"]) if targets else None


def _base(api: Any, state: ServiceState) -> Json:
    """The live service with the template of the revision serving most of its traffic: what the base runs."""
    live = state.live or {}
    serving = _serving(live)
    if not serving:
        return live
    revision = state.revisions.get(serving) or api.get_revision(f"{live['name']}/revisions/{serving}")
    return live if revision is None else {**live, "template": _as_template(revision)}


def _limit_notes(ctx: StepContext, states: dict[str, ServiceState], new_tags: int) -> list[str]:
    notes = []
    services = ctx.remote.run.list_services(location_parent(ctx.target))
    tags = sum(1 for s in services for t in s.get("traffic", []) if t.get("tag"))
    if tags + new_tags >= NEAR * TAG_LIMIT:
        notes.append(
            f"{tags} revision tags in {ctx.target.project}/{ctx.target.region}, Cloud Run allows {TAG_LIMIT} and then "
            "deletes traffic-free tags, oldest first: `shipit preview delete --older-than 7d` or --prune-oldest N"
        )
    for name, state in sorted(states.items()):
        if len(state.revisions) >= NEAR * REVISION_LIMIT:
            notes.append(
                f"{name} has {len(state.revisions)} revisions, Cloud Run keeps {REVISION_LIMIT} and then deletes "
                "revisions without traffic or tag, oldest first"
            )
    return notes


def plan(ctx: StepContext) -> Plan:
    """Read the services (and their revisions), render each one for the preview, compare. No writes."""
    from shipit.steps.release import git_sha, new_release_id

    preview = ctx.options.preview
    if not preview:
        raise UsageError("the preview step needs a preview name", hint="run it as `shipit deploy --preview NAME`")
    target = ctx.target
    names = app_services(ctx)
    check_name(preview, names)
    branches = plan_branch(ctx, preview) if branch_mode(target) else []
    overrides = {b.database: b.ref for b in branches}
    states = read_services(ctx, names)
    release, sha = new_release_id(), git_sha(target.root)
    urls = {n: str(s.live["uri"]) for n, s in states.items() if s.live and s.live.get("uri")}
    notes: set[str] = set()
    changes: list[Change] = [*branch_changes(branches), *_migrations(ctx, preview, branches)]
    for wave in deploy_order(target.config):
        for name in (n for n in wave if n in names):
            change = _plan_service(ctx, states[name], preview, release, sha, urls, notes, overrides)
            if change is not None:
                changes.append(change)
    new_tags = sum(1 for c in changes if c.action is Action.CREATE)
    notes.update(_limit_notes(ctx, states, new_tags))
    if branches:
        notes.add(
            "preview: its own database per database (preview.database: branch); worker pools and jobs not previewed"
        )
    else:
        notes.add(
            "preview: no migrations (it uses the base environment's database); worker pools and jobs not previewed"
        )
    return Plan.of(STEP, changes, sorted(notes))


def _migrations(ctx: StepContext, preview: str, branches: list[BranchDatabase]) -> list[Change]:
    from dataclasses import replace

    from shipit.steps.migrate import plan_preview

    jobs = job_ids(ctx.target, preview)
    out = []
    for b in branches:
        if b.database not in jobs:
            continue
        change = plan_preview(ctx, b.database, jobs[b.database], {b.env_var: b.ref}, {PREVIEW_LABEL: preview})
        if change is not None:
            out.append(replace(change, step=STEP))
    return out


def _plan_service(
    ctx: StepContext,
    state: ServiceState,
    preview: str,
    release: str,
    sha: str,
    urls: dict[str, str],
    notes: set[str],
    overrides: Mapping[str, SecretRef] | None = None,
) -> Change | None:
    """``overrides``: database key -> the preview's own DATABASE_URL secret (preview.database: branch)."""
    name, live = state.name, state.live
    target = ctx.target
    if live is None:
        notes.add(f"{name}: not deployed in {target.env_name}, so not previewed (a preview adds revisions only)")
        return None
    api = ctx.remote.run
    base = _base(api, state)
    inputs, pending = resolve_inputs(ctx, name, base, urls, notes)
    own = {
        target.config.databases[d].env_var: overrides[d]
        for d in target.config.services[name].databases
        if overrides and d in overrides
    }
    if own:
        inputs = dataclasses.replace(inputs, secret_env={**inputs.secret_env, **own})
    if pending:
        notes.add(f"{name}: not previewed, {', '.join(pending)} has no URL yet")
        return None
    try:
        spec = render_service(target.config.services[name], inputs)
    except RenderError as exc:
        raise UsageError(f"services.{name}.{exc}", hint=f"edit {target.config_file}") from None
    desired = api.normalize(with_release_labels(spec, release, sha))
    diffs = [d for d in spec_diff(desired, base) if creates_revision([d])]
    existing = state.tags().get(preview)
    payload_live = freeze_json(live)
    resource = f"service {name}"
    if not diffs:
        if existing is None:
            return Change(STEP, Action.NOOP, resource, f"same as {target.env_name}: not in the preview")
        payload = _Payload(name, payload_live, preview, "", None, "", existing)
        return Change(
            STEP, Action.DELETE, resource, f"same as {target.env_name} again: tag {preview} removed", (), payload
        )
    template = dict(desired["template"])
    previous = (state.revisions.get(existing or "") or {}).get("labels") or {}
    created = str(previous.get(CREATED_LABEL) or int(time.time()))
    template["labels"] = {**template.get("labels", {}), PREVIEW_LABEL: preview, CREATED_LABEL: created}
    revision = revision_id(name, preview, template)
    template["revision"] = revision
    url = tag_url(str(live.get("uri") or ""), preview)
    urls[name] = url  # services later in the order that use ${services.NAME.url} get the preview's
    if existing == revision:
        return Change(STEP, Action.NOOP, resource, f"revision {revision} under tag {preview} is up to date")
    frozen = None if revision in state.revisions else freeze_json(template)
    payload = _Payload(name, payload_live, preview, revision, frozen, url, existing or "")
    action = Action.UPDATE if existing else Action.CREATE
    summary = f"revision {revision} under tag {preview}, no traffic"
    shown = tuple(diffs) + ((FieldDiff("tag." + preview, existing, revision),) if existing else ())
    return Change(STEP, action, resource, summary, shown, payload)


def _prune(ctx: StepContext, keep: str, count: int) -> list[str]:
    """Remove the ``count`` oldest previews other than ``keep``; their names."""
    states = read_services(ctx)
    oldest = [p for p in previews(states) if p.name != keep][:count]
    if not oldest:
        return []
    ctx.console.info(f"pruning the oldest preview(s): {', '.join(p.name for p in oldest)}")
    apply_removal(ctx, plan_removal(states, oldest))
    if branch_mode(ctx.target):
        for pruned in oldest:
            apply_branch_removal(ctx, plan_branch_removal(ctx, pruned.name))
    return [p.name for p in oldest]


def _drop_replaced(ctx: StepContext, service: Json, revision: str) -> None:
    """Delete the preview's previous revision once its tag has moved, unless it still has traffic or a tag or
    is the service's latest (Cloud Run refuses that one)."""
    if not revision:
        return
    used = {str(t["revision"]) for t in pinned(service)}
    latest = {short_revision(service.get(k)) for k in ("latestCreatedRevision", "latestReadyRevision")}
    if revision in used or revision in latest:
        return
    ctx.remote.run.delete_revision(f"{service['name']}/revisions/{revision}")
    ctx.console.info(f"{short_revision(str(service['name']))}: deleted {revision}, the preview's previous revision")


def _apply_branch(ctx: StepContext, preview: str, plan: Plan) -> None:
    """The preview's databases and secrets, then its migrations: before any revision points at them."""
    from shipit.steps.migrate import Migration, apply_preview

    branches = list(dict.fromkeys(c.payload for c in plan.changes if isinstance(c.payload, BranchDatabase)))
    if branches:
        apply_branch(ctx, preview, branches)
    for change in plan.changes:
        if isinstance(change.payload, Migration) and not change.is_noop:
            apply_preview(ctx, change)


def apply(ctx: StepContext, plan: Plan) -> PreviewResult:
    """Write each planned service (in plan order: dependencies first). Raises ShipitError (exit 1) on failure."""
    preview = ctx.options.preview or ""
    api = ctx.remote.run
    pruned = _prune(ctx, preview, ctx.options.prune_oldest) if ctx.options.prune_oldest else []
    _apply_branch(ctx, preview, plan)
    urls: dict[str, str] = {}
    revisions: dict[str, str] = {}
    failed: list[str] = []
    for change in plan.changes:
        payload = change.payload
        service = change.resource.removeprefix("service ")
        if not isinstance(payload, _Payload):
            continue
        live = thaw_json(payload.live)
        if pruned:  # the pruning wrote these services: their etag changed
            live = api.get_service(str(live["name"])) or live
        revision = payload.revision

        def traffic(now: Json, revision: str = revision) -> list[Json]:
            out = pinned(now, drop_tags=[preview])
            return [*out, {"type": REVISION, "revision": revision, "tag": preview}] if revision else out

        template = None if payload.template is None else thaw_json(payload.template)
        written, error = write_fresh(api, live, traffic, template)
        if error:
            failed.append(service)
            ctx.console.error(f"{service}: preview revision {payload.revision} failed: {error}")
            # Leave the service as it was: without a tag on the failed revision.
            write(api, written, pinned(written, drop_tags=[preview]))
            continue
        _drop_replaced(ctx, written, payload.replaced)
        if not payload.revision:
            ctx.console.success(f"{service}: same as {ctx.target.env_name} again, tag {preview} removed")
            continue
        status: Json = next((s for s in written.get("trafficStatuses", []) if s.get("tag") == preview), {})
        urls[service] = str(status.get("uri") or payload.url)
        revisions[service] = payload.revision
    # Services already up to date keep their tag: their URLs are part of the preview too.
    states = read_services(ctx) if not failed else {}
    for name, state in states.items():
        found = state.preview_tags().get(preview)
        if found and name not in urls and found.url:
            urls[name], revisions[name] = found.url, found.revision
    if failed:
        raise ShipitError(f"preview {preview}: {', '.join(failed)} failed; the base environment is unchanged")
    result = PreviewResult(preview, dict(sorted(urls.items())), dict(sorted(revisions.items())))
    path = write_outputs(ctx.target, preview, result.urls)
    for name, url in result.urls.items():
        ctx.console.print(f"{name}: {url}")
    if not result.urls:
        ctx.console.info(f"preview {preview}: no service differs from {ctx.target.env_name}")
    ctx.console.event("preview", **result.to_json(), file=str(path))
    return result
