"""`shipit preview list|delete`: the previews of an environment (made by `shipit deploy --preview NAME`)."""

from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@click.group()
def preview() -> None:
    """Preview environments: tagged revisions with no traffic, one tag per pull request."""


def _age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@effect(Effect.READ)
@preview.command("list")
@global_options
@pass_app
def list_(app: Application) -> None:
    """Each preview: its services, age, URLs and (preview.database: branch) databases (table or --json), read
    from the services' tags."""
    from shipit.steps.context import StepContext
    from shipit.steps.preview import previews, read_services
    from shipit.steps.preview.database import branch_mode, database_names

    ctx = StepContext(target=app.target, console=app.console)
    found = previews(read_services(ctx))
    branch = branch_mode(app.target)
    databases = {p.name: database_names(app.target, p.name) if branch else {} for p in found}
    rows = [p.to_json() | ({"databases": databases[p.name]} if branch else {}) for p in found]
    app.console.emit({"environment": app.target.env_name, "previews": rows})
    if not found:
        app.console.info(f"no previews in {app.target.env_name}")
        return
    app.console.table(
        ["PREVIEW", "SERVICES", "AGE", "URLS"] + (["DATABASES"] if branch else []),
        [
            [p.name, ", ".join(p.services), _age(p.age()), " ".join(f"{s}={u}" for s, u in p.urls.items())]
            + ([", ".join(databases[p.name].values())] if branch else [])
            for p in found
        ],
    )


@effect(Effect.REMOTE)
@preview.command()
@click.argument("name", required=False)
@click.option("--older-than", metavar="AGE", help="Every preview older than AGE (e.g. 7d, 12h, 30m).")
@click.option("--dry-run", is_flag=True, help="Show what would be removed; change nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation (required when not on a TTY).")
@global_options
@pass_app
def delete(app: Application, name: str | None, older_than: str | None, dry_run: bool, yes: bool) -> None:
    """Remove the preview NAME (or those older than --older-than): its tags, then the revisions only it used;
    with preview.database: branch also its database, DATABASE_URL secret and migration job.

    Never a revision with traffic or another tag."""
    from shipit.cli._rollout import show_and_apply
    from shipit.steps.context import RunOptions, StepContext
    from shipit.steps.preview import choose

    target = app.target
    chosen_by = choose(name, older_than)  # bad input fails here, before any call
    app.require_confirmation(yes=yes, dry_run=dry_run, action="delete previews")
    ctx = StepContext(target=target, console=app.console, options=RunOptions(dry_run=dry_run, yes=yes))
    plan, apply = chosen_by(ctx)
    if not plan.has_changes:
        app.console.info("no preview to delete" + (f": {name} does not exist" if name else ""))
    show_and_apply(app, plan, apply, dry_run=dry_run, yes=yes)
