"""Pacing of Cloud Run Admin API writes: one token bucket per project and region, shared by every thread.

Google meters Cloud Run Admin API writes (create/replace a service, worker pool or job, set an IAM policy)
per project and region per minute, so a release of hundreds of services must spread its writes out instead of
meeting 429s. The bucket is sized so that no 60-second window ever holds more than the configured rate:
``burst + refill * 60 == rate``. The rate comes from, first to last: ``--write-rate``, the environment's
``deploy.write_rate_per_minute``, :data:`DEFAULT_WRITE_RATE_PER_MINUTE`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

# Google's published default quota for the Cloud Run Admin API, "Write requests per minute per region"
# (metric run.googleapis.com/write_regional): https://cloud.google.com/run/quotas (API rate limits).
DEFAULT_WRITE_RATE_PER_MINUTE = 180
# A short burst lets a small release go out at once; the refill rate is lowered to keep any window <= rate.
MAX_BURST = 10
WINDOW = 60.0


class TokenBucket:
    """At most ``rate_per_minute`` acquisitions in any 60-second window, ``burst`` of them at once.

    ``clock`` and ``sleep`` are injectable so tests check the invariant without waiting."""

    def __init__(
        self,
        rate_per_minute: int,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        record: bool = False,
    ) -> None:
        if rate_per_minute < 2:
            raise ValueError("a write rate below 2 per minute cannot be paced")
        self.rate = rate_per_minute
        self.burst = burst if burst is not None else max(1, min(MAX_BURST, rate_per_minute // 10))
        if not 1 <= self.burst < rate_per_minute:
            raise ValueError(f"burst {self.burst} must be between 1 and the rate ({rate_per_minute}) - 1")
        # Tokens at the start of a window plus those refilled during it never exceed the rate.
        self.per_second = (rate_per_minute - self.burst) / WINDOW
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._stamp = clock()
        self.acquired = 0
        self.waited = 0.0
        # With record=True: the clock time of every acquisition (tests check the window invariant on it).
        self.log: list[float] | None = [] if record else None

    def acquire(self) -> float:
        """Block until one write may go out; returns how long this caller waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.per_second)
                self._stamp = now
                # The tolerance stops float rounding from turning the refill wait into endless tiny sleeps.
                if self._tokens >= 1.0 - 1e-9:
                    self._tokens = max(self._tokens - 1.0, 0.0)
                    self.acquired += 1
                    self.waited += waited
                    if self.log is not None:
                        self.log.append(now)
                    return waited
                pause = (1.0 - self._tokens) / self.per_second
            self._sleep(pause)
            waited += pause


_rates: dict[tuple[str, str], int] = {}
_buckets: dict[tuple[str, str], TokenBucket] = {}
_lock = threading.Lock()
_time: tuple[Callable[[], float], Callable[[float], Any]] = (time.monotonic, time.sleep)


def use_clock(clock: Callable[[], float], sleep: Callable[[float], Any]) -> None:
    """Pace (and back off) on this clock from now on, e.g. a virtual one in tests: the buckets start afresh."""
    global _time
    with _lock:
        _time = (clock, sleep)
        _buckets.clear()


def backoff(seconds: float) -> None:
    """Wait before re-sending a refused write, on the pacing clock."""
    _time[1](seconds)


def set_rate(project: str, region: str, rate_per_minute: int) -> None:
    """The write rate of one project and region for the rest of this process (a new bucket if it changed)."""
    with _lock:
        key = (project, region)
        if _rates.get(key) != rate_per_minute:
            _rates[key] = rate_per_minute
            _buckets.pop(key, None)


def install(project: str, region: str, bucket: TokenBucket) -> None:
    """Use ``bucket`` for this project and region (tests inject one with a fake clock)."""
    with _lock:
        _rates[(project, region)] = bucket.rate
        _buckets[(project, region)] = bucket


def reset() -> None:
    with _lock:
        _rates.clear()
        _buckets.clear()
        global _time
        _time = (time.monotonic, time.sleep)


def bucket_for(project: str, region: str) -> TokenBucket:
    """The process-wide bucket of one project and region: every thread and client shares it."""
    with _lock:
        key = (project, region)
        bucket = _buckets.get(key)
        if bucket is None:
            clock, sleep = _time
            rate = _rates.get(key, DEFAULT_WRITE_RATE_PER_MINUTE)
            bucket = _buckets[key] = TokenBucket(rate, clock=clock, sleep=sleep)
        return bucket


def pace_write(resource: str) -> float:
    """Wait for the write quota of the region ``resource`` lives in (``projects/P/locations/R/...``)."""
    parts = resource.split("/")
    if len(parts) < 4 or parts[0] != "projects" or parts[2] != "locations":
        raise ValueError(f"not a regional resource name: {resource}")
    return bucket_for(parts[1], parts[3]).acquire()
