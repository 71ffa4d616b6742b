from __future__ import annotations

import json

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app


@click.group()
def config() -> None:
    """Inspect the configuration."""


@effect(Effect.READ)
@config.command()
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@global_options
@pass_app
def show(app: Application, fmt: str) -> None:
    """The fully resolved config of one environment (overlays merged, defaults filled in)."""
    target = app.target
    data = {
        "environment": target.env_name,
        **target.config.model_dump(mode="json", exclude={"environments"}),
        "target": target.environment.model_dump(mode="json", include={"project", "region"})
        | {"production": target.production},
    }
    if app.options.json or fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    import yaml

    click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())
