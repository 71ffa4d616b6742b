"""Live logs of parallel builds and pushes, and the diagnosis of a failed build.

On a terminal: one progress line per service (spinner, step bar, current Dockerfile step) and, with -v, the
prefixed log lines above it. Elsewhere (CI, pipes, --json): plain ``service | line`` lines on the human
stream. A failed build is summarised as the service, the Dockerfile step that failed (with its file:line)
and the last lines of its log.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from shipit.errors import ToolError

if TYPE_CHECKING:
    from shipit.output import Console

# Classic builder: "Step 3/6 : RUN make". BuildKit plain progress: "#7 [build 2/3] RUN make".
_CLASSIC_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_BUILDKIT_STEP = re.compile(r"^#\d+ \[(?:([^\]\s]+) )?(\d+)/(\d+)\] (.*)$")
_BUILDKIT_LINE = re.compile(r"Dockerfile:(\d+)\s*$")
_ERROR_MARKERS = (
    re.compile(r"returned a non-zero code: \d+"),
    re.compile(r"^(COPY|ADD) failed: "),
    re.compile(r"^ERROR: "),
    re.compile(r"(?i)dockerfile parse error"),
    re.compile(r"^unable to prepare context: "),
    re.compile(r"(?i)^error response from daemon: "),
    re.compile(r"^failed to "),
)
TAIL_LINES = 15


@dataclass(frozen=True)
class StepInfo:
    index: int
    total: int
    text: str
    stage: str | None = None


def parse_step(line: str) -> StepInfo | None:
    m = _CLASSIC_STEP.match(line)
    if m:
        return StepInfo(int(m.group(1)), int(m.group(2)), m.group(3).strip())
    m = _BUILDKIT_STEP.match(line)
    if m and not m.group(4).startswith("internal]"):
        return StepInfo(int(m.group(2)), int(m.group(3)), m.group(4).strip(), m.group(1))
    return None


def instruction_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction text) for every Dockerfile instruction, in order.

    Honours parser directives (``# escape=``), comments and line continuations; heredoc bodies are rare in
    production Dockerfiles and are treated as instruction lines, which only affects error line numbers.
    """
    escape = "\\"
    lines = text.splitlines()
    out: list[tuple[int, str]] = []
    in_directives = True
    current: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if in_directives:
            m = re.match(r"^#\s*escape\s*=\s*(\S)\s*$", stripped, re.IGNORECASE)
            if m:
                escape = m.group(1)
                continue
            if not re.match(r"^#\s*\w+\s*=", stripped):
                in_directives = False
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if not current:
            start = number
        if stripped.endswith(escape):
            current.append(stripped[:-1].strip())
            continue
        current.append(stripped)
        out.append((start, " ".join(p for p in current if p)))
        current = []
    if current:
        out.append((start, " ".join(p for p in current if p)))
    return out


class BuildFailed(ToolError):
    """A build failed; names the service, the failing Dockerfile step and shows the log tail."""

    def __init__(self, service: str, message: str, tail: Sequence[str], *, hint: str | None = None) -> None:
        self.service = service
        self.tail = tuple(tail)
        body = message + ("\n" + "\n".join(f"  {service} | {line}" for line in self.tail) if self.tail else "")
        super().__init__(body, hint=hint)


def diagnose(service: str, dockerfile: Path, dockerfile_display: str, log: Sequence[str]) -> BuildFailed:
    """Turn a failed build's log into a BuildFailed naming the step and its Dockerfile line."""
    last_step: StepInfo | None = None
    error_line: str | None = None
    reported_line: int | None = None
    for line in log:
        step = parse_step(line)
        if step is not None:
            last_step = step
        m = _BUILDKIT_LINE.search(line)
        if m:
            reported_line = int(m.group(1))
        if any(p.search(line) for p in _ERROR_MARKERS):
            error_line = line.strip()
    file_line = reported_line
    if file_line is None and last_step is not None and last_step.stage is None:
        try:
            instructions = instruction_lines(dockerfile.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            instructions = []
        if 0 < last_step.index <= len(instructions):
            file_line = instructions[last_step.index - 1][0]
    where = f"{dockerfile_display}:{file_line}" if file_line else dockerfile_display
    if last_step is not None and not (error_line and "parse error" in error_line.lower()):
        stage = f"[{last_step.stage}] " if last_step.stage else ""
        message = (
            f"build of service '{service}' failed at step {stage}{last_step.index}/{last_step.total} "
            f"`{last_step.text}` ({where})"
        )
    else:
        message = f"build of service '{service}' failed ({where})"
    if error_line:
        message += f": {error_line}"
    tail = [line for line in log if line.strip()][-TAIL_LINES:]
    return BuildFailed(service, message, tail, hint="fix the Dockerfile or the files it uses, then re-run")


LineSink = Callable[[str], None]


class LiveLog:
    """Prefixed live output for several concurrent jobs (builds or pushes). Thread-safe."""

    def __init__(self, console: Console, names: Sequence[str], *, verb: str) -> None:
        self.console = console
        self.names = list(names)
        self.verb = verb
        self.width = max((len(n) for n in self.names), default=0)
        self._lock = threading.Lock()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self.rich = console.interactive and not console.quiet

    def __enter__(self) -> LiveLog:
        if self.rich and self.names:
            from rich.console import Console as RichConsole
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.fields[name]}"),
                BarColumn(bar_width=20),
                TimeElapsedColumn(),
                TextColumn("{task.fields[step]}"),
                console=RichConsole(file=self.console.human, no_color=not self.console.color),
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def start(self, name: str) -> None:
        with self._lock:
            if self._progress is not None:
                self._tasks[name] = self._progress.add_task(
                    name, total=None, name=name.ljust(self.width), step=f"{self.verb}ing"
                )
            else:
                self.console.info(f"{name.ljust(self.width)} | {self.verb} started")

    def sink(self, name: str) -> LineSink:
        def on_line(line: str) -> None:
            from shipit.output import REDACTOR

            line = REDACTOR.redact(line.rstrip())
            if not line.strip():
                return
            step = parse_step(line)
            with self._lock:
                if self._progress is not None:
                    task = self._tasks.get(name)
                    if task is not None and step is not None:
                        text = step.text if len(step.text) < 60 else step.text[:57] + "..."
                        self._progress.update(task, total=step.total, completed=step.index - 1, step=text)
                    if self.console.verbose:
                        self._progress.console.print(f"{name.ljust(self.width)} | {line}", markup=False)
                else:
                    self.console.info(f"{name.ljust(self.width)} | {line}")

        return on_line

    def finish(self, name: str, ok: bool, summary: str) -> None:
        with self._lock:
            if self._progress is not None and name in self._tasks:
                task_id = self._tasks[name]
                task = next(t for t in self._progress.tasks if t.id == task_id)
                total = task.total or 1
                self._progress.update(
                    task_id,
                    total=total,
                    completed=total if ok else task.completed,
                    step=("done: " if ok else "FAILED: ") + summary,
                )
            else:
                self.console.info(f"{name.ljust(self.width)} | {'done' if ok else 'FAILED'}: {summary}")
