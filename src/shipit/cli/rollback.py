"""`shipit rollback`: traffic back to the previous ready revision (by default: the last release's services
and workers)."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.REMOTE)
@click.command()
@click.argument("names", metavar="[SERVICE|WORKER]...", nargs=-1)
@click.option("--to", "to_revision", metavar="REVISION", help="Roll back to this revision of one service or worker.")
@click.option("--dry-run", is_flag=True, help="Show the plan only.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@global_options
@pass_app
def rollback(app: Application, names: tuple[str, ...], to_revision: str | None, dry_run: bool, yes: bool) -> None:
    """Move all traffic (a worker: all instances) back to the previous ready revision. No new revision is created.

    Without a name, every service and worker of the last release (shipit-release label) goes back together.
    """
    from shipit.cli._rollout import show_and_apply
    from shipit.errors import ShipitError
    from shipit.plan import Plan
    from shipit.steps import services, workers
    from shipit.steps.context import RunOptions, StepContext

    ctx = StepContext(target=app.target, console=app.console, options=RunOptions(dry_run=dry_run, yes=yes))
    app.require_confirmation(yes=yes, dry_run=dry_run, action="move traffic")
    pools = workers.worker_names(app.target)
    if to_revision and not names:
        # A revision is named NAME-NNNNN-xxx: its owner may be a worker.
        names = tuple(w for w in pools if to_revision.startswith(w + "-"))
    asked_workers = [n for n in names if n in pools]
    asked_services = [n for n in names if n not in pools]
    plans = []
    if not names and not to_revision:
        # One `shipit deploy` labels its services and workers with one release id: they go back together.
        found = [services.release_rollback(ctx), workers.release_rollback(ctx)]
        last = max(f.release for f in found)
        if not last:
            raise ShipitError("nothing to roll back: no service or worker was deployed by shipit yet")
        plans = [f.plan_for(last) for f in found]
    if asked_services or (to_revision and not asked_workers):
        plans.append(services.plan_rollback(ctx, asked_services, to_revision))
    if asked_workers:
        plans.append(workers.plan_rollback(ctx, asked_workers, to_revision))
    plan = Plan.of(plans[0].step, [c for p in plans for c in p.changes], [n for p in plans for n in p.notes])

    def apply() -> dict[str, object]:
        return {**services.apply_traffic(ctx, plan), **workers.apply_splits(ctx, plan)}

    show_and_apply(app, plan, apply, dry_run=dry_run, yes=yes)
