"""The ShipitError tree. Every expected failure is one of these; the CLI maps them to exit codes.

Exit codes (documented in README.md):
  0   success
  1   a step failed (remote API error, build failed, health check failed, ...)
  2   bad input or usage (invalid shipit.yaml, missing .env key, bad option)
  130 interrupted (Ctrl-C)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class ShipitError(Exception):
    """A failure with a message a user can act on. ``hint`` says how to fix it."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(ShipitError):
    """Bad command-line usage or bad local input (not shipit.yaml itself)."""

    exit_code = EXIT_USAGE


class Cancelled(ShipitError):
    """The user declined a confirmation prompt: nothing was changed."""

    def __init__(self, message: str = "cancelled: nothing was changed") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Location:
    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config file: where, which key, what, and how to fix it."""

    location: Location
    path: str
    message: str
    hint: str | None = None

    def render(self) -> str:
        head = f"{self.location}: {_clip(self.path)}: " if self.path else f"{self.location}: "
        tail = f" ({_clip(self.hint)})" if self.hint else ""
        return one_line(f"{head}{_clip(self.message)}{tail}")


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped: a message that quotes a bad value
    stays one line (and a value cannot forge a second, fake error line)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


# A message quoting a 600 KB value must not print it: one problem stays one readable line.
_MAX_PART = 400


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_PART else text[: _MAX_PART - 30] + f"... ({len(text)} characters)"


# At most this many problems are printed; the rest are counted ("... and K more"), so a file with 30,000
# unknown keys prints a screenful, not megabytes.
MAX_SHOWN_ISSUES = 50


class ConfigError(ShipitError):
    """One or more problems in shipit.yaml or a .env file; all are reported at once (the first 50 shown)."""

    exit_code = EXIT_USAGE

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(self.rendered_lines()))

    def rendered_lines(self) -> list[str]:
        """The first MAX_SHOWN_ISSUES issues, then one line counting the others."""
        lines = [issue.render() for issue in self.issues[:MAX_SHOWN_ISSUES]]
        hidden = len(self.issues) - MAX_SHOWN_ISSUES
        if hidden > 0:
            lines.append(f"... and {hidden} more problem{'s' if hidden > 1 else ''}")
        return lines


class RemoteError(ShipitError):
    """A cloud API call failed; the message names the resource and the likely fix."""


class NotFound(RemoteError):
    """The remote resource does not exist (HTTP 404). Adapters raise it; callers catch the type, never a message."""


class ToolError(ShipitError):
    """An external tool (docker, terraform, ...) is missing or failed."""


class CommandFailed(ToolError):
    """A subprocess exited non-zero. The message shows the command, exit code and output tail."""

    def __init__(self, argv: Sequence[str], returncode: int, output: str, *, hint: str | None = None) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.rstrip().splitlines()[-20:])
        message = f"command failed (exit {returncode}): {' '.join(self.argv)}"
        if tail:
            message += "\n" + tail
        super().__init__(message, hint=hint)


class ConflictError(RemoteError):
    """Someone else changed a resource while we were working on it (etag mismatch)."""


class Interrupted(ShipitError):
    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)
