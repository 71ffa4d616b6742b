"""Plan `shipit destroy` for one environment: read-only calls, then a frozen DestroyPlan.

Only resources labelled ``managed-by=shipit``, ``app=<app>`` and ``env=<environment>`` are planned for deletion;
anything else in the project and its regions (another app, another environment, hand-made) is never touched.
Cloud Run services are listed in every region the environment deploys to (``Target.regions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shipit.destroy.model import DestroyOptions, DestroyPlan, Removal, TerraformPhase
from shipit.destroy.terraform import Predicate, is_database, is_repository, protected_instances, split
from shipit.names import APP_LABEL, ENV_LABEL, is_managed, location_parent, owner_labels, repository_name

Json = dict[str, Any]

if TYPE_CHECKING:
    from shipit.config import Target
    from shipit.infra.run import InfraRunner
    from shipit.steps.context import StepContext

WITH_SERVICE = "its revisions and IAM bindings (invokers) go with it"
WITH_POOL = "its revisions and IAM bindings go with it"
WITH_JOB = "its executions and IAM bindings (the scheduler's invoker) go with it"
WITH_SECRET = "every version shipit added goes with it"
WITH_REPOSITORY = "every image pushed to it goes with it"


def _ours(labels: Mapping[str, Any] | None, target: Target) -> bool:
    wanted = owner_labels(target.app, target.env_name)
    have = labels or {}
    return all(have.get(k) == v for k, v in wanted.items())


def _unlabelled(found: list[Json], target: Target) -> list[str]:
    """Resources shipit manages that lack the app/env labels (deployed before shipit set them), named like a
    service or job of this shipit.yaml: never deleted, but named, so the user knows what stays."""
    declared = {*target.config.services, *target.config.jobs}
    return sorted(
        short
        for item in found
        if is_managed(labels := item.get("labels") or {})
        and not (APP_LABEL in labels and ENV_LABEL in labels)
        and (short := str(item.get("name", "")).rsplit("/", 1)[-1]) in declared
    )


def _cloud_run(ctx: StepContext, kept: list[str]) -> list[Removal]:
    target = ctx.target
    parent = location_parent(target.project, target.region)
    remote = ctx.remote
    # A multi-region service runs in every region the environment (or the service) lists; workers and jobs
    # run in the primary region only.
    services: list[Json] = []
    removals: list[Removal] = []
    for region in target.regions:
        found = remote.run.list_services(location_parent(target.project, region))
        services += found
        away = "" if region == target.region else region
        removals += [
            Removal("service", str(s["name"]), WITH_SERVICE, away) for s in found if _ours(s.get("labels"), target)
        ]
    # Listed even when shipit.yaml has no worker left: one deployed before it was removed is still ours.
    pools = remote.worker_pools.list_worker_pools(parent)
    jobs = remote.jobs.list_jobs(parent)
    removals += [Removal("worker-pool", str(p["name"]), WITH_POOL) for p in pools if _ours(p.get("labels"), target)]
    removals += [Removal("job", str(j["name"]), WITH_JOB) for j in jobs if _ours(j.get("labels"), target)]
    old = _unlabelled([*services, *pools, *jobs], target)
    if old:
        kept.append(
            f"Cloud Run {', '.join(old)}: managed-by=shipit but without app/env labels (deployed by an older "
            "shipit), so not provably this environment's; deploy once more to label them, or delete them by hand"
        )
    return sorted(removals, key=lambda r: (r.kind != "service", r.kind != "worker-pool", r.short, r.region))


def _terraform_secret_ids(target: Target) -> set[str]:
    from shipit.render.terraform import terraform_secret_keys
    from shipit.steps.ownership import terraform_owns

    if not terraform_owns(target, "secrets"):
        return set()
    return {target.secret_id(key) for key in terraform_secret_keys(target.config)}


def _secrets(ctx: StepContext, notes: list[str]) -> list[Removal]:
    target = ctx.target
    terraform_ids = _terraform_secret_ids(target)
    listed = ctx.remote.secrets.list_secrets(owner_labels(target.app, target.env_name))
    owned = [m for m in listed if _ours(m.labels, target)]
    left = sorted(m.secret_id for m in owned if m.secret_id in terraform_ids)
    if left:
        notes.append(f"secrets Terraform owns are removed by its destroy, not here: {', '.join(left)}")
    return [
        Removal("secret", m.name, WITH_SECRET)
        for m in sorted(owned, key=lambda m: m.secret_id)
        if m.secret_id not in terraform_ids
    ]


def _repository(ctx: StepContext, options: DestroyOptions, kept: list[str]) -> list[Removal]:
    from shipit.steps.ownership import terraform_owns

    target = ctx.target
    name = repository_name(target.project, target.registry_location, target.repository)
    if not options.images:
        kept.append(f"images in {name} (--images deletes the repository)")
        return []
    if terraform_owns(target, "repository"):
        return []  # Terraform declares it: its destroy removes it (planned below)
    # No other environment pushes to it: `shipit validate` refuses two that would share a repository.
    repo = ctx.remote.artifacts.get_repository(name)
    if repo is None:
        return []
    if not _ours(dict(repo.labels), target):
        kept.append(f"repository {name}: not labelled app={target.app}, env={target.env_name} by shipit")
        return []
    return [Removal("repository", name, WITH_REPOSITORY)]


def _terraform(
    target: Target, runner: InfraRunner | None, options: DestroyOptions, is_data: Predicate
) -> tuple[TerraformPhase | None, TerraformPhase | None, list[str], list[str], list[str]]:
    """(infra phase, data phase, kept, notes, blockers) from the environment's Terraform state."""
    kept: list[str] = []
    notes: list[str] = []
    blockers: list[str] = []
    if runner is None:
        notes.append(f"no Terraform root for {target.env_name}: nothing for terraform destroy")
        return None, None, kept, notes, blockers
    state = runner.state()
    if not state:
        return None, None, kept, notes, blockers

    def keep(res: Any) -> bool:
        return bool(is_data(res)) or (not options.images and is_repository(res))

    parts = split(state, keep=keep)
    infra = None
    if parts.destroy:
        addresses = tuple(r.address for r in parts.destroy)
        infra = TerraformPhase(resources=addresses, targets=addresses, guarded=parts.guarded)
        notes.append(
            "Terraform destroys only the resources listed (-target each): the database, the secrets holding its "
            "URL and what they depend on are left out, never removed from the state"
        )
        notes.append("Cloud Scheduler triggers of scheduled jobs and IAM bindings in Terraform go with its destroy")
    if not options.include_data:
        if parts.kept:
            kept.append(
                "Terraform resources holding data, or needed by it (--include-data destroys them last): "
                + ", ".join(r.address for r in parts.kept)
            )
        return infra, None, kept, notes, blockers
    protected = protected_instances(parts.kept, is_data)
    if protected:
        blockers.append(
            f"deletion protection is on for {', '.join(protected)}: set databases.NAME.deletion_protection: false "
            f"in shipit.yaml, run `shipit infra generate` and `shipit infra apply -e {target.env_name}`, then run "
            "destroy again (shipit never turns it off for you)"
        )
    if not parts.kept:
        return infra, None, kept, notes, blockers
    data = TerraformPhase(resources=tuple(r.address for r in parts.kept))
    if not options.images and any(is_repository(r) for r in state):
        # The repository stays without --images: target the data and what it needs, not the repository.
        repo = split(state, keep=is_repository)
        targets = tuple(r.address for r in parts.kept if r.address not in {k.address for k in repo.kept})
        kept.append(f"{', '.join(repo.guarded)} and what it needs (--images destroys it)")
        if not targets:
            return infra, None, kept, notes, blockers  # an empty -target list would mean the whole state
        data = TerraformPhase(resources=targets, targets=targets, guarded=repo.guarded)
    notes.append("--include-data: Cloud SQL goes last, with every row in it; its backups go with the instance")
    return infra, data, kept, notes, blockers


def plan(
    ctx: StepContext,
    options: DestroyOptions,
    runner: InfraRunner | None,
    *,
    is_data: Predicate = is_database,
) -> DestroyPlan:
    """Everything shipit made for ``ctx.target``'s environment, still there now. Reads only.

    ``runner``: the environment's Terraform (None: it has no Terraform root). ``is_data``: which state
    resources hold data (tests use built-in resources in place of Cloud SQL).
    """
    target = ctx.target
    notes: list[str] = []
    kept: list[str] = []
    removals = _cloud_run(ctx, kept)
    removals += _secrets(ctx, notes)
    removals += _repository(ctx, options, kept)
    infra, data, tf_kept, tf_notes, blockers = _terraform(target, runner, options, is_data)
    return DestroyPlan(
        environment=target.env_name,
        project=target.project,
        region=target.region,
        options=options,
        removals=tuple(removals),
        infra=infra,
        data=data,
        kept=tuple(kept + tf_kept),
        notes=tuple(notes + tf_notes),
        blockers=tuple(blockers),
    )
