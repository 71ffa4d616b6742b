"""Reading and writing .env files with python-dotenv's own parser, so quoting, `export`, multi-line values,
comments and empty values mean exactly what they mean to every other dotenv tool.

Every value is registered with :data:`REDACTOR` the moment it is read. Errors name ``file:line`` and never
quote the offending line: it may hold a secret.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipit.errors import ConfigError, ConfigIssue, Location, UsageError
from shipit.output import REDACTOR


@dataclass(frozen=True)
class EnvFile:
    """The parsed content of one env file. ``values`` are literal: `${VAR}` is not interpolated."""

    path: Path
    display: str
    values: Mapping[str, str] = field(repr=False)
    lines: Mapping[str, int]
    # Keys written twice: key -> every line it appears on (the last one wins, as in python-dotenv).
    duplicates: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    exists: bool = True

    def location(self, key: str) -> Location:
        return Location(self.display, self.lines.get(key))


def read_env_file(path: Path, display: str | None = None, *, missing_ok: bool = True) -> EnvFile:
    """Parse ``path``. A missing file is an empty EnvFile (``exists=False``) unless ``missing_ok`` is False.

    Only a regular file of at most :data:`ENV_FILE_LIMIT` bytes is read (a FIFO or /dev/zero is refused).
    """
    from shipit.boundedread import ENV_FILE_LIMIT, FileMissing, read_bounded, utf8_or_located

    display = display or str(path)
    try:
        data = read_bounded(path, display, ENV_FILE_LIMIT, what="env file")
    except FileMissing:
        if missing_ok:
            return EnvFile(path, display, {}, {}, exists=False)
        raise UsageError(f"{display} does not exist", hint="create it with KEY=value lines") from None
    return parse_env_text(utf8_or_located(data, display), path, display)


# What a dotenv key looks like. Anything else before an '=' is not a key: it may be a line of a pasted
# token or PEM body, so it is never quoted back.
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_NOT_KEY_VALUE = "not KEY=VALUE"
_NOT_KEY_VALUE_FIX = "write KEY=value; quote values that contain spaces, # or quotes, or newlines"
_NO_EQUALS_FIX = "write KEY=value, or KEY= for an empty value"


def parse_env_text(text: str, path: Path, display: str) -> EnvFile:
    from dotenv.parser import parse_stream

    nul = text.find("\x00")
    if nul >= 0:
        issue = ConfigIssue(Location(display, text.count("\n", 0, nul) + 1), "", "contains a NUL byte", "remove it")
        raise ConfigError([issue])
    issues: list[ConfigIssue] = []
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    seen: dict[str, list[int]] = {}
    for binding in parse_stream(io.StringIO(text)):
        # python-dotenv counts a binding from the blank lines before it; point at the line itself.
        original = binding.original.string
        line = binding.original.line + original[: len(original) - len(original.lstrip())].count("\n")
        if binding.error or (binding.key is not None and not _KEY.fullmatch(binding.key)):
            # The line may be a secret (a token on its own line, a PEM body, an unterminated quote's
            # continuation): never quote it, and mask it should anything else ever print it.
            REDACTOR.register_many(original.splitlines())
            if binding.error:
                issues.append(ConfigIssue(Location(display, line), "", "cannot parse this line", _NOT_KEY_VALUE_FIX))
            else:
                issues.append(ConfigIssue(Location(display, line), "", _NOT_KEY_VALUE, _NOT_KEY_VALUE_FIX))
            continue
        if binding.key is None:  # blank line or comment
            continue
        if binding.value is None:
            # A lone word: a name whose '=' was forgotten, or a pasted token: never quote it back.
            REDACTOR.register(binding.key)
            issues.append(ConfigIssue(Location(display, line), "", _NOT_KEY_VALUE, _NO_EQUALS_FIX))
            continue
        # The pairs dotenv_values(interpolate=False) builds from the same bindings: the last one wins.
        values[binding.key] = binding.value
        lines[binding.key] = line
        seen.setdefault(binding.key, []).append(line)
    # One batch: registering 16k values one by one would re-sort the redactor's table 16k times.
    REDACTOR.register_many(values.values())
    if issues:
        raise ConfigError(issues)
    duplicates = {k: tuple(v) for k, v in seen.items() if len(v) > 1}
    return EnvFile(path, display, values, lines, duplicates)


def quote(value: str) -> str:
    """A single-quoted dotenv value that python-dotenv reads back unchanged (newlines included)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_env(values: Iterable[tuple[str, str]], header: Iterable[str] = ()) -> str:
    out = [f"# {line}" if line else "#" for line in header]
    out.extend(f"{key}={quote(value)}" for key, value in values)
    return "\n".join(out) + "\n"


def write_private(path: Path, text: str, *, overwrite: bool) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte, atomically (temp file + rename)."""
    if path.exists() and not overwrite:
        raise UsageError(f"{path} already exists", hint="pass --force to overwrite it, or --output another file")
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)  # mkstemp uses 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
