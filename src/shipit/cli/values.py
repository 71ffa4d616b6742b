"""Option values checked where they are parsed: a bad one is exit 2 naming the option, before any other work."""

from __future__ import annotations

import re
from typing import Any

import click

# A Cloud Run traffic tag becomes part of a host name (TAG---SERVICE-...run.app): a DNS label.
_TAG = re.compile(r"[a-z](?:[a-z0-9-]{0,44}[a-z0-9])?")


def traffic_tag(_ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and not _TAG.fullmatch(str(value)):
        raise click.BadParameter(
            f"{value!r} is not a valid traffic tag (lowercase letters, digits and hyphens, starting with a letter, "
            "at most 46 characters)",
            param=param,
        )
    return value


def secret_versions(_ctx: click.Context, param: click.Parameter, values: Any) -> Any:
    """KEY=N (N a version number >= 1) or KEY=latest."""
    for value in values or ():
        key, sep, version = str(value).partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise click.BadParameter(f"{value!r} is not KEY=VERSION (e.g. STRIPE_KEY=3)", param=param)
        if version != "latest" and not re.fullmatch(r"[1-9][0-9]{0,9}", version):
            raise click.BadParameter(
                f"{key}={version!r}: a version is a number from 1, or 'latest' (e.g. {key}=3)", param=param
            )
    return values


def finite(_ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """click's FloatRange lets NaN through (every comparison with it is false)."""
    if value is not None and value != value:
        raise click.BadParameter("nan is not a number of seconds", param=param)
    return value
