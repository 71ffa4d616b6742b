"""The write pacer: no 60-second window ever holds more acquisitions than the rate, whatever the threads do."""

from __future__ import annotations

import threading

import pytest

from shipit import pacing
from shipit.pacing import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def max_in_window(stamps: list[float], window: float = 60.0) -> int:
    stamps, best, lo = sorted(stamps), 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@pytest.mark.parametrize("rate", [2, 7, 60, 180, 1000])
def test_no_window_exceeds_the_rate(rate: int) -> None:
    clock = Clock()
    bucket = TokenBucket(rate, clock=clock.time, sleep=clock.sleep, record=True)
    count = rate * 3 + 5
    for _ in range(count):
        bucket.acquire()
    assert bucket.log is not None
    assert max_in_window(bucket.log) <= rate
    # ... and it waits no longer than the refill needs: the burst, then one token per 1/per_second.
    assert clock.now <= (count - bucket.burst) / bucket.per_second + 1e-6


def test_a_burst_goes_out_at_once_then_writes_are_spread() -> None:
    clock = Clock()
    bucket = TokenBucket(180, clock=clock.time, sleep=clock.sleep, record=True)
    for _ in range(10):
        assert bucket.acquire() == 0.0
    assert bucket.burst == 10
    assert bucket.acquire() > 0.0
    assert clock.now > 0.0


def test_threads_share_one_bucket() -> None:
    clock = Clock()
    bucket = TokenBucket(120, clock=clock.time, sleep=clock.sleep, record=True)
    workers = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(40)]) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert bucket.acquired == 320
    assert bucket.log is not None
    assert max_in_window(bucket.log) <= 120


@pytest.mark.parametrize("rate", [0, 1])
def test_a_rate_that_cannot_be_paced_is_refused(rate: int) -> None:
    with pytest.raises(ValueError, match="cannot be paced"):
        TokenBucket(rate)


def test_one_bucket_per_project_and_region() -> None:
    pacing.set_rate("p", "us-central1", 50)
    a = pacing.bucket_for("p", "us-central1")
    assert a is pacing.bucket_for("p", "us-central1")
    assert a.rate == 50
    assert pacing.bucket_for("p", "europe-west1").rate == pacing.DEFAULT_WRITE_RATE_PER_MINUTE
    assert pacing.bucket_for("q", "us-central1") is not a
    pacing.set_rate("p", "us-central1", 50)  # unchanged: the same bucket (its tokens are kept)
    assert pacing.bucket_for("p", "us-central1") is a
    pacing.set_rate("p", "us-central1", 90)
    assert pacing.bucket_for("p", "us-central1").rate == 90


def test_writes_are_paced_by_the_region_in_their_name() -> None:
    pacing.set_rate("p", "asia-east1", 20)
    pacing.pace_write("projects/p/locations/asia-east1/services/api")
    assert pacing.bucket_for("p", "asia-east1").acquired == 1
    with pytest.raises(ValueError, match="not a regional resource"):
        pacing.pace_write("services/api")
