"""`shipit jobs list|run`: the Cloud Run jobs of shipit.yaml (deployed by `shipit deploy`, step "jobs")."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@click.group()
def jobs() -> None:
    """Cloud Run jobs (jobs: in shipit.yaml). Their logs are in Cloud Logging (the execution's log link)."""


@effect(Effect.READ)
@jobs.command("list")
@global_options
@pass_app
def list_(app: Application) -> None:
    """Each job: schedule, tasks and its latest execution (table or --json)."""
    from shipit.steps import jobs as jobs_step
    from shipit.steps.context import StepContext

    rows = jobs_step.list_jobs(StepContext(target=app.target, console=app.console))
    app.console.emit({"environment": app.target.env_name, "jobs": rows})
    app.console.table(
        ["JOB", "SCHEDULE", "TASKS", "LAST EXECUTION", "STATUS"],
        [
            [
                r["name"],
                r.get("schedule") or "-",
                r["tasks"],
                r.get("last_execution", "-"),
                r.get("last_status", "-") if r["deployed"] else "not deployed",
            ]
            for r in rows
        ],
    )


@effect(Effect.REMOTE)
@jobs.command()
@click.argument("name")
@click.option("--wait", is_flag=True, help="Wait for the execution to finish; exit 1 if it failed.")
@click.option("--dry-run", is_flag=True, help="Check the job is deployed and say what would run; run nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (required when not on a TTY).")
@global_options
@pass_app
def run(app: Application, name: str, wait: bool, dry_run: bool, yes: bool) -> None:
    """Run the deployed job NAME now (like `gcloud run jobs execute NAME [--wait]`)."""
    from shipit.steps import jobs as jobs_step
    from shipit.steps.context import StepContext

    ctx = StepContext(target=app.target, console=app.console)
    jobs_step.check_known(ctx.target, name)
    app.require_confirmation(yes=yes, dry_run=dry_run, action=f"run job {name}")
    image = jobs_step.deployed_image(ctx, name)
    if dry_run:
        app.console.emit({"name": name, "dry_run": True, "image": image})
        app.console.info(f"dry run: would start an execution of job {name} ({image})")
        return
    app.confirm(f"Run job {name} in {app.target.env_name} ({app.target.project}) now?", yes=yes, action="run a job")
    result = jobs_step.run(ctx, name, wait=wait)
    app.console.emit(result)
    where = f"; logs: {result['logs']}" if result.get("logs") else ""
    app.console.success(f"{name}: execution {result['execution']} {result['status']}{where}")
