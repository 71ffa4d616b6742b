"""`shipit destroy`: delete everything shipit created for one environment (plan, confirm, then delete)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app

if TYPE_CHECKING:
    from shipit.infra.run import InfraRunner
    from shipit.steps.context import StepContext


@contextmanager
def _runner(ctx: StepContext, dry_run: bool) -> Iterator[InfraRunner | None]:
    """The environment's Terraform, or None without a Terraform root. A dry run works on a private copy:
    `terraform init` writes .terraform/ and a lock file, which must not appear in the project."""
    from shipit.infra.run import InfraRunner, infra_paths, scratch_runner

    if not (infra_paths(ctx.target).root / "main.tf").is_file():
        yield None
    elif dry_run:
        with scratch_runner(ctx.target, ctx.console, ctx.remote.terraform) as scratch:
            yield scratch
    else:
        yield InfraRunner(ctx.target, ctx.console, ctx.remote.terraform)


@effect(Effect.REMOTE)
@click.command()
@click.option("--images", is_flag=True, help="Also delete the Artifact Registry repository and every image in it.")
@click.option("--include-data", is_flag=True, help="Also destroy Cloud SQL (last): every database and row in it.")
@click.option("--allow-protected", is_flag=True, help="Required for a protected environment (prod by default).")
@click.option("--dry-run", is_flag=True, help="Show everything that would be deleted; delete nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for the environment name (required when not on a TTY).")
@global_options
@pass_app
def destroy(
    app: Application, images: bool, include_data: bool, allow_protected: bool, dry_run: bool, yes: bool
) -> None:
    """Delete what shipit created for an environment: Cloud Run services, worker pools and jobs, the secrets it
    made, then its Terraform (Cloud SQL only with --include-data, images only with --images)."""
    from shipit import destroy as core
    from shipit.errors import Cancelled, UsageError
    from shipit.steps.context import RunOptions, StepContext

    target = app.target
    if target.protected and not allow_protected:
        raise UsageError(
            f"environment {target.env_name} is protected: destroying it needs --allow-protected",
            hint=f"or set environments.{target.env_name}.protected: false in {target.config_file}",
        )
    app.require_confirmation(yes=yes, dry_run=dry_run, action=f"destroy environment {target.env_name}")
    console = app.console
    ctx = StepContext(target=target, console=console, options=RunOptions(dry_run=dry_run, yes=yes))
    options = core.DestroyOptions(images=images, include_data=include_data)
    with _runner(ctx, dry_run) as runner:
        plan = core.plan(ctx, options, runner)
        for line in plan.as_plan().render_lines():
            console.print(line)
        if plan.blockers:
            raise UsageError(plan.blockers[0])
        if dry_run:
            console.emit({"plan": plan.to_json(), "dry_run": True, "destroyed": False})
            console.info(f"dry run: nothing destroyed ({plan.count} resource(s) would go)")
            return
        if plan.empty:
            console.emit({"plan": plan.to_json(), "dry_run": False, "destroyed": True, "result": None})
            console.success(f"nothing of {target.env_name} is left to destroy")
            return
        if not yes:
            app.require_confirmation(yes=yes, action=f"destroy environment {target.env_name}")
            prompt = f"Delete {plan.count} resource(s) of {target.env_name} ({target.project})? Type its name"
            typed = click.prompt(prompt, err=True, default="", show_default=False)
            if typed.strip() != target.env_name:
                raise Cancelled("cancelled: the name did not match; nothing was destroyed")
        result = core.execute(ctx, plan, runner)
    console.emit({"plan": plan.to_json(), "dry_run": False, "destroyed": True, "result": result.to_json()})
    gone = f" ({len(result.gone)} already gone)" if result.gone else ""
    console.success(f"destroyed {target.env_name}: {plan.count} resource(s){gone}")
