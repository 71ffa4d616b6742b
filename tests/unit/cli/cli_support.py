"""Run shipit's real entry point (error handler included) under click's CliRunner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from click.testing import CliRunner, Result

from shipit.cli.app import Application
from shipit.cli.main import main


class _Main(click.Command):
    def __init__(self, tty: bool | None) -> None:
        super().__init__("shipit")
        self.tty = tty

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        return main(list(args or []), Application(tty=self.tty))


def invoke(
    *args: str, env: Mapping[str, str | None] | None = None, tty: bool | None = None, input: str | None = None
) -> Result:
    """``tty=True``: shipit believes it runs on a terminal, and reads answers to its prompts from ``input``."""
    return CliRunner().invoke(_Main(tty), list(args), env=dict(env or {}), input=input)
