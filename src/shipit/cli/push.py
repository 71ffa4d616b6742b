"""`shipit push [SERVICE...]`: push the built images to Artifact Registry and record their digests."""

from __future__ import annotations

import click

from shipit.cli.app import Application, global_options, jobs_option, pass_app


@click.command()
@click.argument("services", nargs=-1, metavar="[SERVICE]...")
@click.option("--dry-run", is_flag=True, help="Show what would be created and pushed; change nothing.")
@jobs_option("pushes")
@global_options
@pass_app
def push(app: Application, services: tuple[str, ...], dry_run: bool, jobs: int) -> None:
    """Create the Artifact Registry repository if missing, push images the registry lacks, print their digests.

    Docker logs in with an OAuth access token from the same credentials (no gcloud needed). An image
    whose content tag the registry already has is not uploaded again. Run `shipit build` first.
    """
    from shipit.pipeline import record
    from shipit.steps import push as step
    from shipit.steps.context import RunOptions, StepContext

    ctx = StepContext(target=app.target, console=app.console, options=RunOptions(dry_run=dry_run, jobs=jobs))
    console = app.console
    plan = step.plan(ctx, services)
    for line in plan.render_lines():
        console.print(line)
    result = step.predict(ctx, plan) if dry_run or not plan.has_changes else step.apply(ctx, plan)
    console.emit({"plan": plan.to_json(), "dry_run": dry_run, "images": dict(result.images)})
    if dry_run:
        console.info("dry run: nothing pushed")
        return
    # Later commands (`shipit services deploy`, `deploy --only services`) deploy these digests.
    record(ctx, step.STEP, result)
    for service, ref in result.images.items():
        console.print(f"{service}: {ref}")
