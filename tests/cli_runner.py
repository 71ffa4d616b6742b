"""Run shipit's real entry point (error handler included) under click's CliRunner, from any test."""

from __future__ import annotations

from unit.cli.cli_support import invoke

__all__ = ["invoke"]
