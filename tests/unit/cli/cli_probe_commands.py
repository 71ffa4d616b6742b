"""Test-only commands, registered in COMMANDS by monkeypatching the dict, to drive the error paths."""

from __future__ import annotations

import click

from shipit.cli.app import Application, global_options, pass_app


@click.command()
@global_options
@pass_app
def boom(app: Application) -> None:
    """Fails with an unexpected exception."""
    raise RuntimeError("kaboom")


@click.command()
@global_options
def interrupt() -> None:
    """Behaves as if the user pressed Ctrl-C."""
    raise KeyboardInterrupt


@click.command()
@global_options
@pass_app
def options(app: Application) -> None:
    """Prints the parsed global options and console settings."""
    console = app.console
    click.echo(f"{app.options} color={console.color} quiet={console.quiet} json={console.json_mode}")
