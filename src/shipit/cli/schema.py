from __future__ import annotations

import click


@click.command()
def schema() -> None:
    """Print the JSON Schema of shipit.yaml (also published as schema/shipit.schema.json)."""
    from shipit.config.schema import json_schema_text

    click.echo(json_schema_text(), nl=False)
