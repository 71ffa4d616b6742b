from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.READ)
@click.command()
@click.option("--offline", is_flag=True, help="Only local checks (no Google API calls).")
@global_options
@pass_app
def doctor(app: Application, offline: bool) -> None:
    """Check docker, buildx, compose, terraform, credentials, the project, its APIs and your permissions.

    Outside a project (no shipit.yaml) only the machine checks run.
    """
    from shipit.config import find_config
    from shipit.doctor import run_checks
    from shipit.errors import ShipitError

    outside = not app.options.file and find_config(app.cwd) is None
    checks = run_checks(None if outside else app.target, offline=offline, where=str(app.cwd))
    app.console.emit({"checks": [c.__dict__ for c in checks]})
    marks = {"ok": "ok", "warn": "WARN", "fail": "FAIL"}
    app.console.table(
        ("check", "status", "detail", "fix"), [(c.name, marks[c.status], c.detail, c.fix) for c in checks]
    )
    failed = [c.name for c in checks if c.status == "fail"]
    if failed:
        raise ShipitError(f"{len(failed)} check(s) failed: {', '.join(failed)}")
