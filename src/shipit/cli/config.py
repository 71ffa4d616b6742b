from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from shipit.cli.app import Application, Effect, effect, global_options, pass_app

if TYPE_CHECKING:
    from shipit.config import Target


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
        **_resolved(target.config.model_dump(mode="json", exclude={"environments"}), target),
        "target": target.environment.model_dump(mode="json", include={"project", "region"})
        | {"production": target.production},
    }
    if app.options.json or fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    import yaml

    click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())


def _resolved(value: Any, target: Target) -> Any:
    """Fill in the references known before a deploy (${environment.*}, ${app}); the others (service URLs,
    databases, ${env.X}) are only known while deploying, so they are shown as written."""
    from shipit.config.refs import Reference, substitute

    known = {
        ("environment", "name"): target.env_name,
        ("environment", "project"): target.project,
        ("environment", "region"): target.region,
        ("app", ""): target.app,
    }

    def resolve(ref: Reference) -> str:
        return known.get((ref.kind, ref.attr), str(ref))

    if isinstance(value, dict):
        return {k: _resolved(v, target) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, target) for v in value]
    if isinstance(value, str) and "${" in value:
        return substitute(value, resolve)
    return value
