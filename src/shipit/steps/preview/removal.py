"""Removing previews: first their tags (one etag-guarded traffic write per service, no new revision), then
the revisions that served only those tags.

A revision is never deleted while it has traffic or another tag, nor while it is the service's latest
revision (Cloud Run refuses: it goes once a later deploy replaces it, or when Cloud Run prunes old revisions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.concurrency import bounded_map
from shipit.errors import ShipitError
from shipit.plan import Action, Change, FieldDiff, FrozenJson, Plan, freeze_json, thaw_json
from shipit.steps.preview.inventory import Preview, ServiceState
from shipit.steps.preview.writes import pinned, write_fresh
from shipit.steps.services import short_revision

if TYPE_CHECKING:
    from shipit.steps.context import StepContext

STEP = "preview delete"


@dataclass(frozen=True)
class _Removal:
    service: str
    live: FrozenJson  # as read: its etag guards the write
    tags: tuple[str, ...]
    delete: tuple[str, ...]  # revision ids that serve nothing else
    kept: tuple[str, ...]  # revision ids left: the service's latest


def plan_removal(states: dict[str, ServiceState], chosen: Iterable[Preview]) -> Plan:
    by_service: dict[str, set[str]] = {}
    for preview in chosen:
        for tag in preview.tags:
            by_service.setdefault(tag.service, set()).add(preview.name)
    changes = []
    for service in sorted(by_service):
        state = states[service]
        live = state.live or {}
        tags = sorted(by_service[service])
        remaining = pinned(live, drop_tags=tags)
        used = {str(t["revision"]) for t in remaining}
        latest = {short_revision(live.get("latestCreatedRevision")), short_revision(live.get("latestReadyRevision"))}
        owned = {state.tags()[t] for t in tags}
        delete = sorted(r for r in owned if r not in used and r not in latest)
        kept = sorted(r for r in owned if r not in used and r in latest)
        summary = f"remove tag{'s' if len(tags) > 1 else ''} {', '.join(tags)}"
        if delete:
            summary += f"; delete revision{'s' if len(delete) > 1 else ''} {', '.join(delete)}"
        diffs = [FieldDiff(f"tag.{t}", state.tags()[t], None) for t in tags]
        payload = _Removal(service, freeze_json(live), tuple(tags), tuple(delete), tuple(kept))
        changes.append(Change(STEP, Action.DELETE, f"service {service}", summary, tuple(diffs), payload))
    notes = [
        f"{r} stays: it is the latest revision of {c.payload.service} (it goes after the next deploy of it)"
        for c in changes
        for r in c.payload.kept
    ]
    return Plan.of(STEP, changes, notes)


def apply_removal(ctx: StepContext, plan: Plan) -> dict[str, Any]:
    """Per service: {"tags": removed, "deleted": revision ids}. Raises ShipitError (exit 1) on a failed write."""
    api = ctx.remote.run
    removals = [c.payload for c in plan.pending if isinstance(c.payload, _Removal)]

    def one(removal: _Removal) -> dict[str, Any]:
        live = thaw_json(removal.live)
        _, error = write_fresh(api, live, lambda now: pinned(now, drop_tags=removal.tags))
        if error:
            raise ShipitError(f"{removal.service}: removing tag(s) {', '.join(removal.tags)} failed: {error}")
        parent = str(live["name"])
        deleted = []
        for revision in removal.delete:
            api.delete_revision(f"{parent}/revisions/{revision}")
            deleted.append(revision)
        ctx.console.success(
            f"{removal.service}: removed {', '.join(removal.tags)}"
            + (f", deleted {', '.join(deleted)}" if deleted else "")
        )
        return {"tags": list(removal.tags), "deleted": deleted}

    results = bounded_map(one, removals, ctx.options.concurrency, name="run")
    return {r.service: res for r, res in zip(removals, results, strict=True)}


def choose(name: str | None, older_than: str | None) -> Callable[[StepContext], tuple[Plan, Callable[[], Any]]]:
    """Check the selection (exit 2 on bad input, no call yet); then, given a context, plan it and return
    the plan with the function that applies it."""
    from datetime import datetime, timezone

    from shipit.errors import UsageError
    from shipit.logs.query import parse_since
    from shipit.steps.preview.database import apply_branch_removal, branch_mode, plan_branch_removal
    from shipit.steps.preview.inventory import previews, read_services
    from shipit.steps.preview.outputs import remove_outputs

    if (name is None) == (older_than is None):
        raise UsageError(
            "name one preview or give --older-than", hint="`shipit preview delete pr-123` or --older-than 7d"
        )
    cutoff: float | None = None
    if older_than is not None:
        if not re.fullmatch(r"\d+[smhd]", older_than.strip()):
            raise UsageError(f"--older-than {older_than!r} is not an age", hint="use e.g. 7d, 12h or 30m")
        cutoff = parse_since(older_than, datetime.now(timezone.utc)).timestamp()

    def plan_it(ctx: StepContext) -> tuple[Plan, Callable[[], Any]]:
        states = read_services(ctx)
        found = previews(states)
        chosen = [p for p in found if (p.name == name if name else p.created < (cutoff or 0))]
        plan = plan_removal(states, chosen)
        # preview.database branch: the preview's database, secret and migration job go too (also when its
        # tags are already gone, so a half-removed preview can be deleted by name).
        dropped: list[Change] = []
        if branch_mode(ctx.target):
            for preview_name in sorted({p.name for p in chosen} | ({name} if name else set())):
                dropped.extend(plan_branch_removal(ctx, preview_name))
            plan = Plan.of(STEP, [*plan.changes, *dropped], plan.notes)

        def apply() -> Any:
            result = apply_removal(ctx, plan)
            if dropped:
                result["dropped"] = apply_branch_removal(ctx, dropped)
            for preview in chosen:
                remove_outputs(ctx.target, preview.name)
            return result

        return plan, apply

    return plan_it
