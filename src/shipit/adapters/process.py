"""Every subprocess shipit runs goes through here: argv lists only, secrets on stdin, errors that show
the command, its exit code and the tail of its output (redacted)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipit.errors import CommandFailed, ToolError
from shipit.output import REDACTOR


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def which(tool: str, *, hint: str | None = None) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolError(f"{tool} is not installed or not on PATH", hint=hint)
    return path


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    check: bool = True,
    timeout: float | None = None,
    on_line: Callable[[str], None] | None = None,
    hint: str | None = None,
) -> Result:
    """Run a command. ``env`` is added to os.environ. ``on_line`` streams combined output live."""
    full_env = {**os.environ, **(env or {})}
    argv = tuple(str(a) for a in argv)
    try:
        if on_line is None:
            completed = subprocess.run(
                argv,
                cwd=cwd,
                env=full_env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            result = Result(argv, completed.returncode, completed.stdout, completed.stderr)
        else:
            result = _stream(argv, cwd, full_env, stdin, on_line, timeout)
    except FileNotFoundError:
        raise ToolError(f"{argv[0]} is not installed or not on PATH", hint=hint) from None
    except subprocess.TimeoutExpired:
        raise ToolError(f"command timed out after {timeout}s: {' '.join(argv)}", hint=hint) from None
    if check and result.returncode != 0:
        output = REDACTOR.redact((result.stdout + "\n" + result.stderr).strip())
        raise CommandFailed(argv, result.returncode, output, hint=hint)
    return result


def _stream(
    argv: tuple[str, ...],
    cwd: Path | str | None,
    env: Mapping[str, str],
    stdin: str | None,
    on_line: Callable[[str], None],
    timeout: float | None,
) -> Result:
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    if stdin is not None and proc.stdin:
        proc.stdin.write(stdin)
        proc.stdin.close()
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        lines.append(line)
        on_line(REDACTOR.redact(line))
    returncode = proc.wait(timeout=timeout)
    return Result(argv, returncode, "\n".join(lines), "")
