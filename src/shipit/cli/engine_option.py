"""`--engine local|cloudbuild`, shared by `shipit build` and `shipit deploy`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def engine_option() -> Callable[[F], F]:
    return click.option(
        "--engine",
        type=click.Choice(["local", "cloudbuild"]),
        default=None,
        help="Build images here or on Cloud Build (default: build.engine, per service services.X.build.engine).",
    )
