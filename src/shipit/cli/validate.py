from __future__ import annotations

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.READ)
@click.command()
@global_options
@pass_app
def validate(app: Application) -> None:
    """Check shipit.yaml and report every problem at once (exit 2 when invalid). No remote calls."""
    loaded = app.loaded
    if app.options.env:
        app.target  # noqa: B018 - resolving checks that the environment exists
    names = loaded.environment_names()
    services = list(loaded.base.services)
    app.console.emit({"valid": True, "file": loaded.display, "environments": names, "services": services})
    app.console.success(f"{loaded.display} is valid: {len(services)} service(s), environments: {', '.join(names)}")
