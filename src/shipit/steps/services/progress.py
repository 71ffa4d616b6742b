"""Progress of a rollout, wave by wave: one live line per wave on a terminal (rich), JSON events with --json
(``wave_started``, ``wave_finished``), and a line per wave in verbose text output otherwise."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipit.output import Console


class WaveProgress:
    def __init__(self, console: Console, waves: Sequence[Sequence[str]], *, project: str, region: str) -> None:
        self.console = console
        self.waves = [list(w) for w in waves if w]
        self.project, self.region = project, region
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self._index = 0
        self._counts = {"done": 0, "changed": 0, "failed": 0}
        self._started = 0.0
        # Live lines only where someone watches and there is more than a handful of services.
        self.live = console.interactive and not console.quiet and sum(map(len, self.waves)) > 1

    def __enter__(self) -> WaveProgress:
        if self.live:
            from rich.console import Console as RichConsole
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"),
                console=RichConsole(file=self.console.human, no_color=not self.console.color),
            )
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _status(self) -> str:
        from shipit.pacing import bucket_for

        c = self._counts
        paced = bucket_for(self.project, self.region).waited
        parts = [f"{c['changed']} changed", f"{c['done'] - c['changed'] - c['failed']} unchanged"]
        if c["failed"]:
            parts.append(f"{c['failed']} failed")
        if paced >= 1:
            parts.append(f"paced {paced:.0f}s under the write quota")
        return ", ".join(parts)

    def start_wave(self, names: Sequence[str]) -> None:
        with self._lock:
            self._index += 1
            self._counts = {"done": 0, "changed": 0, "failed": 0}
            self._started = time.monotonic()
            label = f"wave {self._index}/{len(self.waves)}"
            if self._progress is not None:
                self._task = self._progress.add_task(label, total=len(names), status="")
        self.console.event("wave_started", wave=self._index, waves=len(self.waves), services=len(names))

    def service_done(self, action: str, ok: bool) -> None:
        with self._lock:
            self._counts["done"] += 1
            if not ok:
                self._counts["failed"] += 1
            elif action != "no-op":
                self._counts["changed"] += 1
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, completed=self._counts["done"], status=self._status())

    def finish_wave(self) -> None:
        with self._lock:
            counts = dict(self._counts)
            seconds = round(time.monotonic() - self._started, 3)
            status = self._status()
        self.console.event(
            "wave_finished",
            wave=self._index,
            waves=len(self.waves),
            services=counts["done"],
            changed=counts["changed"],
            unchanged=counts["done"] - counts["changed"] - counts["failed"],
            failed=counts["failed"],
            seconds=seconds,
        )
        if self._progress is None:
            self.console.detail(f"wave {self._index}/{len(self.waves)}: {counts['done']} services, {status}")
