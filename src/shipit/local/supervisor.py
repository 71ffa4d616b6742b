"""A small foreman/honcho: run processes side by side, prefix and colour their output, stop them all.

Each child runs in its own session (process group), so a Ctrl-C in the terminal reaches only shipit,
which then stops the children in order: SIGTERM to each whole group, SIGKILL after a grace period.
Argv lists only, no shell; the environment is given whole (secrets travel there, never in argv).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from shipit.output import REDACTOR

COLOURS = ("36", "33", "32", "35", "34", "91", "96", "93", "92", "95", "94")


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(repr=False)  # the complete environment of the process
    log: Path | None = None  # background helpers (emulators) write here instead of the console


@dataclass
class _Child:
    spec: ProcessSpec
    proc: subprocess.Popen[str]
    reader: threading.Thread | None = None


@dataclass(frozen=True)
class Exit:
    name: str
    returncode: int


class Supervisor:
    def __init__(self, out: IO[str], *, color: bool, width: int = 8) -> None:
        self._out = out
        self._color = color
        self._width = width
        self._lock = threading.Lock()
        self._children: list[_Child] = []

    @property
    def names(self) -> list[str]:
        return [child.spec.name for child in self._children]

    def line(self, name: str, text: str, *, index: int | None = None) -> None:
        """Print one prefixed line: `12:00:01 api      | text`."""
        position = index if index is not None else len(self._children)
        prefix = f"{time.strftime('%H:%M:%S')} {name:<{self._width}} |"
        if self._color:
            prefix = f"\x1b[{COLOURS[position % len(COLOURS)]}m{prefix}\x1b[0m"
        with self._lock:
            self._out.write(f"{prefix} {REDACTOR.redact(text)}\n")
            self._out.flush()

    def start(self, spec: ProcessSpec) -> None:
        self._width = max(self._width, len(spec.name))
        index = len(self._children)
        log_handle = spec.log.open("ab") if spec.log is not None else None
        try:
            proc = subprocess.Popen(
                list(spec.argv),
                cwd=spec.cwd,
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=log_handle if log_handle is not None else subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
        finally:
            if log_handle is not None:
                log_handle.close()
        child = _Child(spec, proc)
        if log_handle is None:
            child.reader = threading.Thread(target=self._pump, args=(child, index), daemon=True)
            child.reader.start()
        self._children.append(child)

    def _pump(self, child: _Child, index: int) -> None:
        assert child.proc.stdout is not None
        for raw in child.proc.stdout:
            self.line(child.spec.name, raw.rstrip("\n"), index=index)

    def alive(self, name: str) -> bool:
        return any(c.spec.name == name and c.proc.poll() is None for c in self._children)

    def wait_any(self, poll: float = 0.2) -> Exit:
        """Block until one child exits (KeyboardInterrupt propagates to the caller)."""
        while True:
            for child in self._children:
                code = child.proc.poll()
                if code is not None:
                    if child.reader is not None:
                        child.reader.join(timeout=2)
                    return Exit(child.spec.name, code)
            time.sleep(poll)

    def stop(self, grace: float = 10) -> None:
        """SIGTERM every process group (last started first), then SIGKILL what is left after ``grace``."""
        for child in reversed(self._children):
            _signal_group(child.proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        try:
            for child in reversed(self._children):
                remaining = max(0.0, deadline - time.monotonic())
                try:
                    child.proc.wait(timeout=remaining)
                except subprocess.TimeoutExpired:
                    self.line(child.spec.name, f"did not stop within {grace:.0f}s: killing it")
        except KeyboardInterrupt:
            pass  # a second Ctrl-C: kill right away
        for child in reversed(self._children):
            # The group may outlive its leader (e.g. a reloader's worker): kill what remains of it.
            _signal_group(child.proc, signal.SIGKILL)
            if child.proc.poll() is None:
                child.proc.wait(timeout=5)
            if child.reader is not None:
                child.reader.join(timeout=2)


def _signal_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def expand(argv: Sequence[str], env: Mapping[str, str]) -> tuple[str, ...]:
    """$VAR and ${VAR} from the service's environment, as honcho's shell would (unknown ones stay)."""
    import re

    pattern = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return tuple(pattern.sub(replace, arg) for arg in argv)
