"""The application object every command receives: options, console, config, all built lazily."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

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


class Effect(str, Enum):
    """What a command may change; every command declares one (a test walks the command tree)."""

    READ = "read"  # writes nothing the user owns
    WRITES = "writes"  # local files or images: has --dry-run
    REMOTE = "remote"  # remote state: has --dry-run and -y/--yes, asks on a terminal
    DELETES = "deletes"  # deletes local state: has --dry-run and -y/--yes, asks on a terminal


EFFECT_ATTRIBUTE = "shipit_effect"
C = TypeVar("C", bound=click.Command)


def effect(kind: Effect) -> Callable[[C], C]:
    """Declare what a command changes: put it above `@click.command()`."""

    def mark(command: C) -> C:
        setattr(command, EFFECT_ATTRIBUTE, kind)
        return command

    return mark


def effect_of(command: click.Command) -> Effect | None:
    value = getattr(command, EFFECT_ATTRIBUTE, None)
    return value if isinstance(value, Effect) else None


@dataclass
class Application:
    options: Options = field(default_factory=Options)
    cwd: Path = field(default_factory=Path.cwd)
    # None: ask the real terminal (stdin and stderr). Tests set it to drive the prompt through CliRunner.
    tty: bool | None = None

    @property
    def can_prompt(self) -> bool:
        """A question can be asked and answered: a terminal on stdin and stderr, and not --json."""
        if self.options.json:
            return False
        if self.tty is not None:
            return self.tty
        return sys.stdin.isatty() and sys.stderr.isatty()

    def require_confirmation(self, *, yes: bool, dry_run: bool = False, action: str = "apply changes") -> None:
        """Refuse at once (exit 2, before any remote call) when a confirmation will be needed but cannot be asked."""
        if yes or dry_run or self.can_prompt:
            return
        from shipit.errors import UsageError

        why = "--json is on" if self.options.json else "there is no terminal to ask on"
        raise UsageError(f"refusing to {action} without confirmation: {why}", hint="pass --yes to go ahead")

    def confirm(self, question: str, *, yes: bool, action: str = "apply changes") -> None:
        """Ask on the terminal (stderr); declining raises Cancelled (exit 1). --yes skips the question."""
        if yes:
            return
        self.require_confirmation(yes=yes, action=action)
        from shipit.errors import Cancelled

        if not click.confirm(question, default=False, err=True):
            raise Cancelled()

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


@overload
def global_options(func: F, *, file: bool = True) -> F: ...


@overload
def global_options(func: None = None, *, file: bool = True) -> Callable[[F], F]: ...


def global_options(func: Any = None, *, file: bool = True) -> Any:
    """Global options, accepted before or after the command: `shipit -e prod plan` == `shipit plan -e prod`.

    ``file=False`` for a command whose own -f means something else (`local logs -f` follows).
    """
    if func is None:
        return lambda f: global_options(f, file=file)
    file_option = click.option(
        "-f",
        "--file",
        metavar="FILE",
        expose_value=False,
        callback=_set_option("file"),
        help="Config file (default: shipit.yaml, searched upward).",
    )
    decorators = [
        *([file_option] if file else []),
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
