"""A virtual clock for Cloud Run write pacing in tests (the autouse ``pacing_clock`` fixture)."""

from __future__ import annotations


class VirtualClock:
    """Time that passes only when someone sleeps: write pacing and 429 back-off keep their order and their
    invariants, and no test waits for a quota window to refill."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self.now = 0.0
        self.slept = 0.0

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += max(seconds, 0.0)
            self.slept += max(seconds, 0.0)
