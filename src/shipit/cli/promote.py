"""`shipit promote`: finish a canary: all traffic to the latest ready revision."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.REMOTE)
@click.command()
@click.argument("names", metavar="[SERVICE|WORKER]...", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show the plan only.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@global_options
@pass_app
def promote(app: Application, names: tuple[str, ...], dry_run: bool, yes: bool) -> None:
    """Send 100% of traffic (a worker: instances) to the latest ready revision (default: all), after --canary."""
    from shipit.cli._rollout import show_and_apply
    from shipit.plan import Plan
    from shipit.steps import services, workers
    from shipit.steps.context import RunOptions, StepContext

    ctx = StepContext(target=app.target, console=app.console, options=RunOptions(dry_run=dry_run, yes=yes))
    app.require_confirmation(yes=yes, dry_run=dry_run, action="move traffic")
    pools = workers.worker_names(app.target)
    asked_workers = [n for n in names if n in pools]
    asked_services = [n for n in names if n not in pools]
    plans = []
    if asked_services or not names:
        plans.append(services.plan_promote(ctx, asked_services))
    if asked_workers or not names:
        plans.append(workers.plan_promote(ctx, asked_workers))
    plan = Plan.of(plans[0].step, [c for p in plans for c in p.changes])
    if not plan.has_changes:
        app.console.info("nothing to promote: everything runs on its latest revision")

    def apply() -> dict[str, object]:
        return {**services.apply_traffic(ctx, plan), **workers.apply_splits(ctx, plan)}

    show_and_apply(app, plan, apply, dry_run=dry_run, yes=yes)
