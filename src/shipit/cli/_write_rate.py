"""`--write-rate`: Cloud Run Admin API writes per minute for one run (deploy, services deploy)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def write_rate_option(fn: F) -> F:
    return click.option(
        "--write-rate",
        type=click.IntRange(2, 100_000),
        metavar="PER_MINUTE",
        default=None,
        help="Cloud Run Admin API writes per minute in the region (default: the environment's "
        "deploy.write_rate_per_minute, else Google's default quota, 180).",
    )(fn)
