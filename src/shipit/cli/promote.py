"""`shipit promote`: finish a canary: all traffic to the latest ready revision."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.REMOTE)
@click.command()
@click.argument("names", metavar="[SERVICE]...", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show the plan only.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@global_options
@pass_app
def promote(app: Application, names: tuple[str, ...], dry_run: bool, yes: bool) -> None:
    """Send 100% of traffic to the latest ready revision of SERVICEs (default: all), e.g. after --canary."""
    from shipit.cli._rollout import show_and_apply
    from shipit.steps import services
    from shipit.steps.context import RunOptions, StepContext

    ctx = StepContext(target=app.target, console=app.console, options=RunOptions(dry_run=dry_run, yes=yes))
    app.require_confirmation(yes=yes, dry_run=dry_run, action="move traffic")
    plan = services.plan_promote(ctx, names)
    if not plan.has_changes:
        app.console.info("nothing to promote: every service sends all traffic to its latest revision")
    show_and_apply(app, plan, lambda: services.apply_traffic(ctx, plan), dry_run=dry_run, yes=yes)
