"""`shipit push [SERVICE...]`: push the built images to Artifact Registry and record their digests."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, jobs_option, pass_app


@effect(Effect.REMOTE)
@click.command()
@click.argument("services", nargs=-1, metavar="[SERVICE]...")
@click.option("--dry-run", is_flag=True, help="Show what would be created and pushed; change nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (required when not on a TTY).")
@jobs_option("pushes")
@global_options
@pass_app
def push(app: Application, services: tuple[str, ...], dry_run: bool, yes: bool, jobs: int) -> None:
    """Create the Artifact Registry repository if missing, push images the registry lacks, print their digests.

    Docker logs in with an OAuth access token from the same credentials (no gcloud needed). An image
    whose content tag the registry already has is not uploaded again. Run `shipit build` first.
    """
    from shipit.pipeline import record
    from shipit.steps import push as step
    from shipit.steps.context import RunOptions, StepContext

    ctx = StepContext(target=app.target, console=app.console, options=RunOptions(dry_run=dry_run, jobs=jobs))
    app.require_confirmation(yes=yes, dry_run=dry_run, action="push to the registry")
    console = app.console
    plan = step.plan(ctx, services)
    for line in plan.render_lines():
        console.print(line)
    if dry_run or not plan.has_changes:
        result = step.predict(ctx, plan)
    else:
        app.confirm(f"Push to {app.target.project}?", yes=yes, action="push to the registry")
        result = step.apply(ctx, plan)
    console.emit({"plan": plan.to_json(), "dry_run": dry_run, "images": dict(result.images)})
    if dry_run:
        console.info("dry run: nothing pushed")
        return
    # Later commands (`shipit services deploy`, `deploy --only services`) deploy these digests.
    record(ctx, step.STEP, result)
    for service, ref in result.images.items():
        console.print(f"{service}: {ref}")
