"""`shipit jobs list|run`: the Cloud Run jobs of shipit.yaml (deployed by `shipit deploy`, step "jobs")."""

from __future__ import annotations

import click

from shipit.cli.app import Application, global_options, pass_app


@click.group()
def jobs() -> None:
    """Cloud Run jobs (jobs: in shipit.yaml). Their logs are in Cloud Logging (the execution's log link)."""


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


@jobs.command()
@click.argument("name")
@click.option("--wait", is_flag=True, help="Wait for the execution to finish; exit 1 if it failed.")
@global_options
@pass_app
def run(app: Application, name: str, wait: bool) -> None:
    """Run the deployed job NAME now (like `gcloud run jobs execute NAME [--wait]`)."""
    from shipit.steps import jobs as jobs_step
    from shipit.steps.context import StepContext

    result = jobs_step.run(StepContext(target=app.target, console=app.console), name, wait=wait)
    app.console.emit(result)
    where = f"; logs: {result['logs']}" if result.get("logs") else ""
    app.console.success(f"{name}: execution {result['execution']} {result['status']}{where}")
