"""`shipit rollback`: traffic back to the previous ready revision (by default: the last release's services)."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.REMOTE)
@click.command()
@click.argument("names", metavar="[SERVICE]...", nargs=-1)
@click.option("--to", "to_revision", metavar="REVISION", help="Roll back to this revision of one service.")
@click.option("--dry-run", is_flag=True, help="Show the plan only.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@global_options
@pass_app
def rollback(app: Application, names: tuple[str, ...], to_revision: str | None, dry_run: bool, yes: bool) -> None:
    """Move all traffic back to the previous ready revision. No new revision is created.

    Without SERVICE, every service of the last release (shipit-release label) goes back together.
    """
    from shipit.cli._rollout import show_and_apply
    from shipit.steps import services
    from shipit.steps.context import RunOptions, StepContext

    ctx = StepContext(target=app.target, console=app.console, options=RunOptions(dry_run=dry_run, yes=yes))
    app.require_confirmation(yes=yes, dry_run=dry_run, action="move traffic")
    plan = services.plan_rollback(ctx, names, to_revision)
    show_and_apply(app, plan, lambda: services.apply_traffic(ctx, plan), dry_run=dry_run, yes=yes)
