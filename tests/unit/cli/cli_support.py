"""Run shipit's real entry point (error handler included) under click's CliRunner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
from click.testing import CliRunner, Result

from shipit.cli.main import main


class _Main(click.Command):
    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        return main(list(args or []))


def invoke(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(_Main("shipit"), list(args), env=dict(env or {}))
