from __future__ import annotations

import os

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@effect(Effect.READ)
@click.command()
@global_options
@pass_app
def validate(app: Application) -> None:
    """Check shipit.yaml and what it points at; report every problem at once (exit 2 when invalid). No remote calls.

    Besides the file itself: build contexts, Dockerfiles and their target stages, the env file (every
    declared secret present) and the variables `${env.X}` reads. With -e, one environment; else all.
    """
    from shipit.config import resolve_target
    from shipit.errors import ConfigError, ConfigIssue
    from shipit.localcheck import preflight

    loaded = app.loaded
    names = loaded.environment_names()
    selected = [app.target.env_name] if app.options.env else names
    issues: list[ConfigIssue] = []
    warnings: list[str] = []
    for name in selected:
        try:
            result = preflight(loaded, resolve_target(loaded, name), environ=dict(os.environ), secrets_in_env_file=True)
            warnings.extend(result.warnings)
        except ConfigError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ConfigError(list(dict.fromkeys(issues)))
    for warning in dict.fromkeys(warnings):
        app.console.detail(warning)
    services = list(loaded.base.services)
    app.console.emit({"valid": True, "file": loaded.display, "environments": names, "services": services})
    app.console.success(f"{loaded.display} is valid: {len(services)} service(s), environments: {', '.join(names)}")
