"""`shipit secrets`: diff, sync, list, pull. Each command builds a StepContext and calls one core function."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app

if TYPE_CHECKING:
    from shipit.plan import Plan
    from shipit.steps.context import StepContext


def _context(app: Application) -> StepContext:
    from shipit.steps.context import StepContext

    return StepContext(target=app.target, console=app.console)


def _show(app: Application, plan: Plan) -> None:
    for line in plan.render_lines():
        app.console.print(line)


@click.group()
def secrets() -> None:
    """Sync the env file into Secret Manager, show what differs, list or pull secrets. Never prints values."""


@effect(Effect.READ)
@secrets.command()
@click.option("--prune", is_flag=True, help="Also plan deleting managed secrets no longer declared.")
@global_options
@pass_app
def diff(app: Application, prune: bool) -> None:
    """Show what `sync` would do: KEY, action, value hash, resulting version. Read-only."""
    from shipit.steps import secrets as step

    plan = step.plan(_context(app), prune=prune)
    app.console.emit(plan.to_json())
    _show(app, plan)


@effect(Effect.REMOTE)
@secrets.command()
@click.option("--dry-run", is_flag=True, help="Show the plan, write nothing.")
@click.option("--prune", is_flag=True, help="Delete managed secrets (managed-by=shipit) no longer declared.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (required when not on a TTY).")
@global_options
@pass_app
def sync(app: Application, dry_run: bool, prune: bool, yes: bool) -> None:
    """Create secrets and add versions so Secret Manager matches the env file. Running it twice adds nothing."""
    from shipit.pipeline import record
    from shipit.steps import secrets as step

    ctx = _context(app)
    # Before reading any secret: without a terminal the answer is known now.
    app.require_confirmation(yes=yes, dry_run=dry_run, action="change Secret Manager")
    console = app.console
    plan = step.plan(ctx, prune=prune)
    _show(app, plan)
    applied = False
    if dry_run or not plan.has_changes:
        result = step.predict(ctx, plan)
    else:
        deletions = sum(1 for c in plan.pending if c.action.value == "delete")
        deleting = f", deleting {deletions} secret(s)" if deletions else ""
        app.confirm(f"Apply {len(plan.pending)} change(s) to {ctx.target.project}{deleting}?", yes=yes)
        result = step.apply(ctx, plan)
        applied = True
    if not dry_run:
        # The versions later commands pin services and jobs to.
        record(ctx, step.STEP, result)
    console.emit({"plan": plan.to_json(), "dry_run": dry_run, "applied": applied, "result": dict(result.versions)})
    if dry_run:
        console.info("dry run: nothing written")
    elif applied:
        console.success(f"secrets synced: {len(plan.pending)} change(s) applied, {len(result.versions)} key(s) pinned")
    else:
        console.success(f"secrets in sync: {len(result.versions)} key(s), nothing to do")


@effect(Effect.READ)
@secrets.command(name="list")
@global_options
@pass_app
def list_(app: Application) -> None:
    """Secrets of this app and environment: versions, latest version, creation time (never values)."""
    from shipit.secrets_tools import inventory

    rows = inventory(_context(app))
    app.console.emit({"secrets": [r.to_json() for r in rows]})
    app.console.table(
        ("KEY", "SECRET", "STATUS", "VERSIONS", "LATEST", "ENABLED", "CREATED"),
        [
            (
                r.key or "-",
                r.secret_id,
                r.status,
                r.versions,
                r.latest or "-",
                r.enabled or "-",
                r.created or "-",
            )
            for r in rows
        ],
    )


@effect(Effect.WRITES)
@secrets.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: the env file)."
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@click.option("--dry-run", is_flag=True, help="Read the secrets and say what would be written; write nothing.")
@global_options
@pass_app
def pull(app: Application, output: Path | None, force: bool, dry_run: bool) -> None:
    """Write the declared secrets from Secret Manager into an env file (mode 0600), for a new developer."""
    from shipit.secrets_tools import pull as pull_secrets

    ctx = _context(app)
    path = output if output is not None else Path(ctx.target.env_file)
    display = app.display_path(path)
    result = pull_secrets(ctx, path, force=force, display=display, dry_run=dry_run)
    app.console.emit(
        {"file": display, "keys": result.written, "missing": list(result.missing), "mode": "0600", "dry_run": dry_run}
    )
    for key in result.missing:
        app.console.warn(f"{key} is declared but has no enabled version in Secret Manager; not written")
    if dry_run:
        app.console.info(f"dry run: would write {len(result.written)} key(s) to {display}; nothing written")
    else:
        app.console.success(f"wrote {len(result.written)} key(s) to {display} (mode 0600)")
