"""Read a local input file safely: only regular files, only up to a stated size, checked before reading.

A FIFO blocks forever, `/dev/zero` never ends, a directory fails oddly: every file shipit reads as input
(shipit.yaml, .env, compose files, Terraform output) goes through :func:`read_bounded`, which stats the path,
refuses anything that is not a regular file, and never reads more than ``limit + 1`` bytes even when the file
grows between the stat and the read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from shipit.errors import ConfigError, ConfigIssue, Location

# Stated limits (README "Limits"): far above any real file, far below what could exhaust memory.
CONFIG_LIMIT = 1024 * 1024  # shipit.yaml
ENV_FILE_LIMIT = 4 * 1024 * 1024  # .env (16k keys with long values fit)
COMPOSE_LIMIT = 1024 * 1024  # compose files read by `shipit init`
JSON_LIMIT = 16 * 1024 * 1024  # Terraform outputs and other JSON shipit reads back


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class FileMissing(ConfigError):
    """The file does not exist (callers that accept a missing file catch this one)."""


def _refuse(display: str, message: str, hint: str | None) -> ConfigError:
    return ConfigError([ConfigIssue(Location(display), "", message, hint)])


def read_bounded(path: Path, display: str, limit: int, *, what: str = "file") -> bytes:
    """The bytes of ``path``; a located ConfigError (exit 2) for a missing, special or oversized file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileMissing([ConfigIssue(Location(display), "", "file not found", None)]) from None
    except OSError as exc:
        raise _refuse(display, f"cannot read {what}: {exc.strerror}", None) from None
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(display, f"is {_kind(info.st_mode)}, not a regular file", f"point at the {what} itself")
    if info.st_size > limit:
        raise _refuse(
            display,
            f"is {info.st_size} bytes, larger than the {limit} byte limit for a {what}",
            "check the path; a file this large is almost certainly not the right one",
        )
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO after the stat, opening it must not block.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _refuse(display, f"cannot read {what}: {exc.strerror}", None) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _refuse(display, "is not a regular file", f"point at the {what} itself")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _refuse(display, f"cannot read {what}: {exc.strerror}", None) from None
    finally:
        os.close(fd)
    if size > limit:
        raise _refuse(display, f"is larger than the {limit} byte limit for a {what}", "check the path")
    return b"".join(chunks)


def utf8_or_located(data: bytes, display: str) -> str:
    """Decode UTF-8; a bad byte is reported at its line and column, without quoting the line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            [ConfigIssue(Location(display, line, col), "", "is not valid UTF-8", "save the file as UTF-8")]
        ) from None


def nul_location(text: str) -> tuple[int, int] | None:
    """Line and column of the first NUL character, which no text config may contain."""
    index = text.find("\x00")
    if index < 0:
        return None
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1
