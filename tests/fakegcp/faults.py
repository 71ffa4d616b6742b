"""Fault injection: error statuses, latency and dropped responses, per discovery method id."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Literal

Action = Literal["error", "drop"]


@dataclass
class _Rule:
    method_id: str | None
    action: Action
    status: int
    message: str | None
    nth: int | None  # 1-based call number of this method at which the rule starts
    times: int | None  # how many calls it hits; None = forever
    every: int  # hit one call in `every`
    hits: int = 0

    def matches(self, method_id: str, count: int) -> bool:
        if self.method_id is not None and self.method_id != method_id:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        start = self.nth or 1
        if count < start:
            return False
        return (count - start) % self.every == 0


@dataclass(frozen=True)
class Decision:
    """What the fake does to one call: an error status, a dropped response, and/or a delay."""

    action: Action | None = None
    status: int = 0
    message: str | None = None
    delay: float = 0.0


class Faults:
    """Registry of injected faults. Counts calls per method id (1-based)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._latency: dict[str | None, float] = {}
        self._counts: Counter[str] = Counter()
        self._build_timeouts = 0

    def fail(
        self,
        method_id: str,
        status: int = 503,
        nth: int | None = None,
        times: int | None = 1,
        message: str | None = None,
    ) -> None:
        """Answer `status` to the nth call of method_id (default: the next one), `times` times in a row."""
        with self._lock:
            start = nth if nth is not None else self._counts[method_id] + 1
            self._rules.append(_Rule(method_id, "error", status, message, start, times, 1))

    def fail_every(
        self,
        method_id: str | None,
        status: int = 503,
        every: int = 2,
        times: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer `status` to one call in `every` (the next call first); method_id None = any method."""
        with self._lock:
            start = self._counts[method_id] + 1 if method_id else None
            self._rules.append(_Rule(method_id, "error", status, message, start, times, every))

    def drop_response(self, method_id: str, nth: int | None = None, times: int | None = 1) -> None:
        """Apply the nth call (default: next) but lose its response (connection reset)."""
        with self._lock:
            start = nth if nth is not None else self._counts[method_id] + 1
            self._rules.append(_Rule(method_id, "drop", 0, None, start, times, 1))

    def latency(self, seconds: float, method_id: str | None = None) -> None:
        """Delay every call (or every call of method_id) by `seconds`; 0 removes the delay."""
        with self._lock:
            if seconds <= 0:
                self._latency.pop(method_id, None)
            else:
                self._latency[method_id] = seconds

    def time_out_builds(self, times: int = 1) -> None:
        """The next `times` Cloud Builds run past their timeout: their step is stopped, status TIMEOUT."""
        with self._lock:
            self._build_timeouts += times

    def take_build_timeout(self) -> bool:
        """Consumed by the fake Cloud Build when a build starts: True when it must time out."""
        with self._lock:
            if self._build_timeouts <= 0:
                return False
            self._build_timeouts -= 1
            return True

    def clear(self) -> None:
        with self._lock:
            self._build_timeouts = 0
            self._rules.clear()
            self._latency.clear()
            self._counts.clear()

    def count(self, method_id: str) -> int:
        """How many calls of method_id the fake has seen."""
        with self._lock:
            return self._counts[method_id]

    def decide(self, method_id: str) -> Decision:
        """Count one call of method_id and decide its fate."""
        with self._lock:
            self._counts[method_id] += 1
            n = self._counts[method_id]
            delay = self._latency.get(method_id, self._latency.get(None, 0.0))
            for rule in self._rules:
                if rule.method_id is None:
                    n_any = sum(self._counts.values())
                    if not rule.matches(method_id, n_any):
                        continue
                elif not rule.matches(method_id, n):
                    continue
                rule.hits += 1
                return Decision(rule.action, rule.status, rule.message, delay)
            return Decision(delay=delay)
