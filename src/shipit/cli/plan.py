from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app

# `--detailed-exitcode`, as `terraform plan -detailed-exitcode`: 0 nothing to do, 1 error, 2 changes pending.
EXIT_CHANGES_PENDING = 2


@effect(Effect.READ)
@click.command()
@click.option("--offline", is_flag=True, help="Plan as if nothing existed in the cloud yet; no remote calls.")
@click.option("--only", multiple=True, metavar="STEPS", help="Only these steps (comma-separated).")
@click.option("--skip", multiple=True, metavar="STEPS", help="Skip these steps (comma-separated).")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when changes are pending, 1 on errors or blockers (like terraform).",
)
@click.option(
    "--changed-since",
    metavar="REF",
    help="Only list the services the git range REF..work tree affects (build context, Dockerfile, build.watch "
    "paths, their shipit.yaml section), and why; no remote calls.",
)
@global_options
@pass_app
def plan(
    app: Application,
    offline: bool,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    detailed_exitcode: bool,
    changed_since: str | None,
) -> None:
    """Show every step's plan for one environment: images, secrets, infrastructure, services. No writes.

    Ends with `N to create, M to update, K to delete, B blockers`. Exits 1 when there are blockers (the deploy
    would stop); with --detailed-exitcode, 2 when changes are pending and 0 when there is nothing to do.
    """
    from shipit.errors import EXIT_FAILURE, ShipitError

    if changed_since is not None:
        _changed(app, changed_since)
        return
    try:
        _plan(app, offline, only, skip, detailed_exitcode)
    except ShipitError as exc:
        if detailed_exitcode:
            exc.exit_code = EXIT_FAILURE  # 2 means "changes pending" here: every error is 1, as in terraform
        raise


def _changed(app: Application, ref: str) -> None:
    from shipit.changed import changed_since

    found = changed_since(app.target, app.loaded.path, ref)
    app.console.emit({"environment": app.target.env_name, "changed_since": found.to_json()})
    total = len(found.affected) + len(found.unchanged)
    app.console.info(f"services affected since {ref} ({found.commit[:12]}): {len(found.affected)} of {total}")
    width = max((len(n) for n in found.affected), default=0)
    for name, reasons in found.affected.items():
        app.console.print(f"  {name:<{width}}  {', '.join(reasons)}")
    app.console.print(f"{len(found.affected)} affected, {len(found.unchanged)} unchanged")


def _plan(app: Application, offline: bool, only: tuple[str, ...], skip: tuple[str, ...], detailed: bool) -> None:
    from shipit.localcheck import before_steps
    from shipit.pipeline import plan_all, select_steps, show_plans
    from shipit.steps.context import RunOptions, StepContext

    steps = select_steps(only, skip)
    # Local checks (env file, build contexts, ${env.X}) before the first Docker or remote call.
    before_steps(app.loaded, app.target, [s.name for s in steps])
    ctx = StepContext(app.target, app.console, RunOptions(dry_run=True, offline=offline))
    report = plan_all(ctx, steps, events=False)  # --json: one document, not an event stream
    plans = [s.plan for s in report.steps if s.plan is not None]
    counts = {"create": 0, "update": 0, "delete": 0, "unchanged": 0}
    for step_plan in plans:
        for action, number in step_plan.counts().items():
            if action == "replace":
                counts["update"] += number
            elif action == "no-op":
                counts["unchanged"] += number
            elif action in counts:
                counts[action] += number
    blockers = [f"{p.step}: {b}" for p in plans for b in p.blockers]
    summary = (
        f"{counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete, "
        f"{counts['unchanged']} unchanged, {len(blockers)} blocker{'' if len(blockers) == 1 else 's'}"
    )
    app.console.emit(
        {
            "environment": ctx.target.env_name,
            "offline": offline,
            "steps": [p.to_json() for p in plans],
            "has_changes": report.has_changes,
            "summary": {**counts, "blockers": len(blockers)},
        }
    )
    app.console.info(
        f"plan for {app.target.app} / {app.target.env_name} ({app.target.project}, {app.target.region})"
        + (" — offline: as if nothing existed yet" if offline else "")
    )
    show_plans(ctx, report)
    if not report.has_changes and not blockers:
        app.console.success("no changes: everything is up to date")
    app.console.print(summary)
    if blockers:
        app.console.error(f"the deploy would stop: {len(blockers)} blocker(s) above")
        raise SystemExit(1)
    if detailed and report.has_changes:
        raise SystemExit(EXIT_CHANGES_PENDING)
