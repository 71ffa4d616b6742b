"""Carry out a DestroyPlan: API deletions first, then Terraform without the data, then (asked for) the data.

Every deletion treats "not found" as done, so a run cut short (Ctrl-C, a lost connection, a quota error) is
finished by running `shipit destroy` again: it plans only what is still there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipit.destroy.model import DestroyPlan, Removal, TerraformPhase
from shipit.errors import ShipitError
from shipit.plan import Action

if TYPE_CHECKING:
    from shipit.infra.run import InfraRunner
    from shipit.steps.context import StepContext


class DestroyRefused(ShipitError):
    """Terraform's targeted plan would delete something that must stay; nothing of it was applied."""


@dataclass(frozen=True)
class DestroyResult:
    deleted: tuple[str, ...]  # removed by this run
    gone: tuple[str, ...]  # already gone when their turn came (an earlier, interrupted run)
    terraform: tuple[str, ...]  # addresses Terraform destroyed

    def to_json(self) -> dict[str, Any]:
        return {"deleted": list(self.deleted), "already_gone": list(self.gone), "terraform": list(self.terraform)}


def _delete(ctx: StepContext, removal: Removal) -> bool:
    remote = ctx.remote
    if removal.kind == "service":
        return remote.run.delete_service(removal.name)
    if removal.kind == "worker-pool":
        return remote.worker_pools.delete_worker_pool(removal.name)
    if removal.kind == "job":
        return remote.jobs.delete_job(removal.name)
    if removal.kind == "secret":
        secret_id = removal.short
        if remote.secrets.get_secret(secret_id) is None:
            return False
        remote.secrets.delete_secret(secret_id)
        return True
    if removal.kind == "repository":
        return remote.artifacts.delete_repository(removal.name)
    raise AssertionError(f"unknown kind {removal.kind}")


def _terraform(ctx: StepContext, runner: InfraRunner, phase: TerraformPhase) -> tuple[str, ...]:
    result = runner.plan(destroy=True, targets=phase.targets)
    deleting = {c.resource for c in result.pending if c.action in (Action.DELETE, Action.REPLACE)}
    touched = sorted(deleting & set(phase.guarded))
    if touched:
        runner.paths.plan_file.unlink(missing_ok=True)
        raise DestroyRefused(
            f"the targeted terraform destroy would also delete {', '.join(touched)}; nothing of it was applied",
            hint="something the database needs depends on another resource: destroy with --include-data, or "
            "remove the dependency in infra/",
        )
    if not result.has_changes:
        return ()
    runner.apply(result)
    return tuple(sorted(deleting))


def execute(ctx: StepContext, plan: DestroyPlan, runner: InfraRunner | None) -> DestroyResult:
    console = ctx.console
    deleted: list[str] = []
    gone: list[str] = []
    for removal in plan.removals:
        what = removal.label
        if _delete(ctx, removal):
            deleted.append(removal.name)
            console.info(f"deleted {what}")
        else:
            gone.append(removal.name)
            console.info(f"{what} was already gone")
        console.event("destroyed", resource=removal.kind, name=removal.name)
    destroyed: list[str] = []
    for phase in (plan.infra, plan.data):
        if phase is None:
            continue
        if runner is None:
            raise AssertionError("a Terraform phase needs the environment's runner")
        destroyed.extend(_terraform(ctx, runner, phase))
    return DestroyResult(tuple(deleted), tuple(gone), tuple(destroyed))
