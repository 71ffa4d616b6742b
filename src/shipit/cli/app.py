"""The application object every command receives: options, console, config, all built lazily."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from shipit.concurrency import BUILD_JOBS

if TYPE_CHECKING:
    from shipit.config import LoadedConfig, Target
    from shipit.output import Console


@dataclass
class Options:
    file: str | None = None
    env: str | None = None
    json: bool = False
    verbose: int = 0
    quiet: bool = False
    no_color: bool = False


@dataclass
class Application:
    options: Options = field(default_factory=Options)
    cwd: Path = field(default_factory=Path.cwd)

    @cached_property
    def console(self) -> Console:
        from shipit.output import Console, install_log_redaction

        install_log_redaction()
        color = False if (self.options.no_color or "NO_COLOR" in os.environ) else None
        return Console(json_mode=self.options.json, verbose=self.options.verbose, quiet=self.options.quiet, color=color)

    @cached_property
    def config_path(self) -> Path:
        from shipit.config import find_config
        from shipit.errors import UsageError

        if self.options.file is not None:
            if not self.options.file.strip():
                raise UsageError("-f/--file: the path is empty", hint="pass -f path/to/shipit.yaml, or omit -f")
            return Path(self.options.file)
        found = find_config(self.cwd)
        if found is None:
            raise UsageError(
                f"no shipit.yaml in {self.cwd} or any parent directory", hint="run `shipit init`, or pass -f FILE"
            )
        return found

    def display_path(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.cwd.resolve()))
        except (ValueError, RuntimeError, OSError):  # RuntimeError: a symlink loop
            if self.options.file:
                return str(path)  # as the user wrote it
            # Found by searching upward: ../../shipit.yaml is shorter than an absolute path and still clickable.
            return os.path.relpath(path, self.cwd)

    @cached_property
    def loaded(self) -> LoadedConfig:
        from shipit.config import load_config

        return load_config(self.config_path, self.display_path(self.config_path))

    @cached_property
    def target(self) -> Target:
        from shipit.config import resolve_target

        return resolve_target(self.loaded, self.options.env)


F = TypeVar("F", bound=Callable[..., Any])


def _set_option(name: str) -> Any:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        app = ctx.ensure_object(Application)
        if value not in (None, False, 0):
            setattr(app.options, name, value)
        return value

    return callback


def global_options(func: Any) -> Any:
    """Global options, accepted before or after the command: `shipit -e prod plan` == `shipit plan -e prod`."""
    decorators = [
        click.option(
            "-f",
            "--file",
            metavar="FILE",
            expose_value=False,
            callback=_set_option("file"),
            help="Config file (default: shipit.yaml, searched upward).",
        ),
        click.option(
            "-e",
            "--env",
            metavar="ENV",
            expose_value=False,
            callback=_set_option("env"),
            help="Environment (default: default_environment, or the only one).",
        ),
        click.option(
            "--json",
            "json_",
            is_flag=True,
            expose_value=False,
            callback=_set_option("json"),
            help="Machine-readable JSON on stdout.",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            expose_value=False,
            callback=_set_option("verbose"),
            help="More detail; tracebacks for unexpected errors.",
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            expose_value=False,
            callback=_set_option("quiet"),
            help="Only errors and primary output.",
        ),
        click.option(
            "--no-color",
            is_flag=True,
            expose_value=False,
            callback=_set_option("no_color"),
            help="No colour (also NO_COLOR=1).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def jobs_option(what: str) -> Callable[[F], F]:
    """`-j/--jobs`: how many image builds or pushes run at once (build, push and deploy share the default)."""
    return click.option(
        "-j", "--jobs", type=click.IntRange(1, 32), default=BUILD_JOBS, show_default=True, help=f"Parallel {what}."
    )


pass_app = click.make_pass_decorator(Application, ensure=True)
