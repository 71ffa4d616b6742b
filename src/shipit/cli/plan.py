from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.READ)
@click.command()
@click.option("--offline", is_flag=True, help="Plan as if nothing existed in the cloud yet; no remote calls.")
@click.option("--only", multiple=True, metavar="STEPS", help="Only these steps (comma-separated).")
@click.option("--skip", multiple=True, metavar="STEPS", help="Skip these steps (comma-separated).")
@global_options
@pass_app
def plan(app: Application, offline: bool, only: tuple[str, ...], skip: tuple[str, ...]) -> None:
    """Show every step's plan for one environment: images, secrets, infrastructure, services. No writes."""
    from shipit.pipeline import plan_all, select_steps, show_plans
    from shipit.steps.context import RunOptions, StepContext

    steps = select_steps(only, skip)
    ctx = StepContext(app.target, app.console, RunOptions(dry_run=True, offline=offline))
    report = plan_all(ctx, steps, events=False)  # --json: one document, not an event stream
    app.console.emit(
        {
            "environment": ctx.target.env_name,
            "offline": offline,
            "steps": [s.plan.to_json() for s in report.steps if s.plan is not None],
            "has_changes": report.has_changes,
        }
    )
    app.console.info(
        f"plan for {app.target.app} / {app.target.env_name} ({app.target.project}, {app.target.region})"
        + (" — offline: as if nothing existed yet" if offline else "")
    )
    show_plans(ctx, report)
    if not report.has_changes:
        app.console.success("no changes: everything is up to date")
