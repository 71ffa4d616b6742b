from __future__ import annotations

import click

from shipit.cli.app import Effect, effect, global_options


@effect(Effect.READ)
@click.command()
@global_options
def schema() -> None:
    """Print the JSON Schema of shipit.yaml (also published as schema/shipit.schema.json)."""
    from shipit.config.schema import json_schema_text

    click.echo(json_schema_text(), nl=False)
