"""`shipit build [SERVICE...]`: build the production images that neither the engine nor the registry has."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, jobs_option, pass_app
from shipit.cli.engine_option import engine_option


@effect(Effect.WRITES)
@click.command()
@click.argument("services", nargs=-1, metavar="[SERVICE]...")
@click.option("--dry-run", is_flag=True, help="Show which images would be built and which are cached; build nothing.")
@jobs_option("builds")
@engine_option()
@global_options
@pass_app
def build(app: Application, services: tuple[str, ...], dry_run: bool, jobs: int, engine: str | None) -> None:
    """Build production images, tagged by content (c-<hash>) and by git commit (git-<sha>).

    An image whose content tag the local engine or the registry already has is not built again.
    With --engine cloudbuild, images are built on Cloud Build and pushed by it; only the registry counts.
    """
    from shipit.localcheck import before_steps
    from shipit.steps import build as step
    from shipit.steps.context import RunOptions, StepContext
    from shipit.steps.images import select_services

    select_services(app.target, services)  # unknown names: exit 2 before anything else
    # The env file (build secrets) and the contexts before the engine or the registry is asked anything.
    before_steps(app.loaded, app.target, ["build"], services=services)

    ctx = StepContext(
        target=app.target, console=app.console, options=RunOptions(dry_run=dry_run, jobs=jobs, build_engine=engine)
    )
    console = app.console
    plan = step.plan(ctx, services)
    for line in plan.render_lines():
        console.print(line)
    result = step.predict(ctx, plan) if dry_run or not plan.has_changes else step.apply(ctx, plan)
    images = {name: {"ref": r.ref, "tags": list(r.tags), "source": r.source} for name, r in result.images.items()}
    console.emit({"plan": plan.to_json(), "dry_run": dry_run, "images": images})
    if dry_run:
        console.info("dry run: nothing built")
    elif plan.has_changes:
        console.success(f"built {len(plan.pending)} image(s)")
